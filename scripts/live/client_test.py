"""A client generated from Orbit's /openapi.json drives ingest, recommendations and the feed.

Usage: client_test.py BASE_URL WORK_DIR  (ORBIT_WRITE_TOKEN in the environment)

openapi-python-client writes the package from the document the server serves; every call below
goes through that generated code (its models serialise the requests and parse the answers), and
each answer is checked against the same route read with plain HTTP, so a document that described
the API wrongly would fail here twice: at generation or at parsing.
"""
import importlib
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Checks, get_json  # noqa: E402

base, work = sys.argv[1], Path(sys.argv[2])
token = os.environ["ORBIT_WRITE_TOKEN"]
work.mkdir(parents=True, exist_ok=True)
check = Checks("generated client")


def raw(path):
    return get_json(base, path, token)


# Generate the client from the live document.
spec = work / "openapi.json"
spec.write_bytes(urllib.request.urlopen(base + "/openapi.json").read())
(work / "config.yaml").write_text("post_hooks: []\n")
bin_dir = Path(sys.executable).parent
subprocess.run([str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec), "--output-path", str(work / "orbit_client"),
                "--meta", "none", "--config", str(work / "config.yaml"), "--overwrite"], check=True)
sys.path.insert(0, str(work))
oc = importlib.import_module("orbit_client")

from orbit_client.api.default import (  # noqa: E402
    delete_users_id_dismissals_candidate, get_leaderboards, get_model, get_users_id, get_users_id_dismissals, get_users_id_feed,
    get_users_id_follow_recommendations, post_admin_refresh, post_events, post_follows, post_impressions, post_users_id_dismissals,
    put_users_id_flags,
)
from orbit_client.models import (  # noqa: E402
    AtomicEventBatch, Dismissal, Error, Flags, FlagsFlagsItem, FollowEvent, FollowEventBody, FollowEventType, Impressions,
    InteractionEvent, InteractionEventKind, InteractionEventType, PerItemEventBatch, PerItemEventBatchEventsItem, PerItemEventBatchMode,
    PostEvent, PostEventType, UserEvent, UserEventType, WriteResult,
)

client = oc.AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)

# Ingest: one atomic batch of users, follows, a post and an interaction.
people = ["gc-alice", "gc-bob", "gc-carol", "gc-dave", "gc-erin"]
follows = [("gc-alice", "gc-bob"), ("gc-bob", "gc-carol"), ("gc-bob", "gc-dave"), ("gc-erin", "gc-carol"), ("gc-erin", "gc-dave"),
           ("gc-alice", "gc-erin")]
events = [UserEvent(type_=UserEventType.USER, id=p) for p in people]
events += [FollowEvent(type_=FollowEventType.FOLLOW, follower=a, followee=b) for a, b in follows]
events += [PostEvent(type_=PostEventType.POST, id="gc-post-1", author="gc-carol"),
           InteractionEvent(type_=InteractionEventType.INTERACTION, user="gc-alice", post="gc-post-1", kind=InteractionEventKind.LIKE)]
r = post_events.sync_detailed(client=client, body=AtomicEventBatch(events=events))
check(r.status_code == 200 and isinstance(r.parsed, WriteResult) and r.parsed.accepted == len(events),
      f"atomic batch of {len(events)} events accepted ({r.status_code}: {r.parsed})")

# A per-item batch: the good event is written, the bad one answered in place.
good = PerItemEventBatchEventsItem.from_dict({"type": "follow", "follower": "gc-dave", "followee": "gc-erin"})
bad = PerItemEventBatchEventsItem.from_dict({"type": "follow", "follower": "gc-dave"})
r = post_events.sync_detailed(client=client, body=PerItemEventBatch(events=[good, bad], mode=PerItemEventBatchMode.PER_ITEM))
check(r.status_code == 200 and r.parsed.accepted == 1 and r.parsed.rejected == 1
      and [x.ok for x in r.parsed.results] == [True, False] and r.parsed.results[1].error["where"] == "events[1].followee",
      f"per-item batch: 1 accepted, 1 rejected at events[1].followee ({r.content[:200]!r})")

# One event through its own route; a self-follow is well formed but refused: 422, parsed as Error.
r = post_follows.sync_detailed(client=client, body=FollowEventBody(follower="gc-carol", followee="gc-bob"))
check(r.status_code == 200 and r.parsed.accepted == 1, "POST /v1/follows through the generated FollowEventBody")
r = post_follows.sync_detailed(client=client, body=FollowEventBody(follower="gc-carol", followee="gc-carol"))
check(r.status_code == 422 and isinstance(r.parsed, Error) and r.parsed.error.code == "self_reference",
      f"a self-follow answers 422 self_reference, parsed as Error ({r.status_code})")

# Recommendations: the generated model holds what plain HTTP answers.
r = get_users_id_follow_recommendations.sync_detailed("gc-alice", client=client, k=10, explain=True)
plain = raw("/v1/users/gc-alice/follow-recommendations?k=10&explain=true")
got = [i.user for i in r.parsed.items]
check(r.status_code == 200 and got == [i["user"] for i in plain["items"]] and len(got) > 0,
      f"who to follow for gc-alice through the client equals plain HTTP: {got}")
check(bool({"gc-carol", "gc-dave"} & set(got)), "gc-alice is offered gc-carol or gc-dave (each followed by both her followees)")
check(all(i.source and i.reason for i in r.parsed.items), "every suggestion carries its source and reason")

# Dismiss one of them: gone from the list, back after the undo.
r = post_users_id_dismissals.sync_detailed("gc-alice", client=client, body=Dismissal(candidate="gc-carol"))
check(r.status_code == 200, "dismissal written through the client")
after = [i.user for i in get_users_id_follow_recommendations.sync("gc-alice", client=client, k=10).items]
check("gc-carol" not in after, f"gc-carol no longer suggested after the dismissal: {after}")
check(get_users_id_dismissals.sync("gc-alice", client=client).candidates == ["gc-carol"], "GET dismissals lists gc-carol")
r = delete_users_id_dismissals_candidate.sync_detailed("gc-alice", "gc-carol", client=client)
back = [i.user for i in get_users_id_follow_recommendations.sync("gc-alice", client=client, k=10).items]
check(r.status_code == 200 and "gc-carol" in back, "undo restores gc-carol")

# Impressions and flags take their generated bodies.
r = post_impressions.sync_detailed(client=client, body=Impressions(user="gc-alice", candidates=["gc-dave"], surface="home"))
check(r.status_code == 200 and r.parsed.accepted == 1, "impressions written through the client")
r = put_users_id_flags.sync_detailed("gc-erin", client=client, body=Flags(flags=[FlagsFlagsItem.REPORTED]))
check(r.status_code == 200, "flags set through the client")
summary = get_users_id.sync("gc-erin", client=client)
check(summary.flags == ["reported"], f"gc-erin's summary shows the flag: {summary.flags}")

# The feed, parsed.
feed = get_users_id_feed.sync_detailed("gc-alice", client=client, k=10, explain=True)
plain = raw("/v1/users/gc-alice/feed?k=10&explain=true")
kinds = [i.type_.value for i in feed.parsed.items]
check(feed.status_code == 200 and kinds == [i["type"] for i in plain["items"]] and len(kinds) > 0,
      f"the feed through the client equals plain HTTP: {kinds}")

# A rebuild through the admin route, then everything is still there, now in the snapshot.
r = post_admin_refresh.sync_detailed(client=client, wait=True)
check(r.status_code == 200, f"refresh through the client ({r.status_code})")
status = get_model.sync(client=client)
check(status.overlay.changes == 0 and status.snapshot.users >= len(people), "after the rebuild the snapshot holds the new users")
boards = get_leaderboards.sync(client=client, k=5)
check(len(boards.most_followed) == 5, "leaderboards parse")

check.finish("")
