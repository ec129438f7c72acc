"""What the live tests share: a list of checks that fails the run at the end, and a JSON GET."""
import json
import sys
import urllib.request


class Checks:
    """Prints each check as it goes; `finish` exits 1 when any failed."""

    def __init__(self, name):
        self.name = name
        self.failures = []

    def __call__(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)

    def finish(self, done):
        if self.failures:
            print(f"{self.name}: {len(self.failures)} failed")
            sys.exit(1)
        print(f"{self.name}: every check passed{done}")


def get_json(base, path, token):
    """GET base+path with a bearer token, parsed."""
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
