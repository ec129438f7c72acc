#!/usr/bin/env python3
"""The soak's report (benchmarks/soak.sh): a per-minute table and the verdict, from the windows
file (one JSON line per wrk window) and the server's log.

Each window is classed by what ran during it, from the log: a *rebuild* (from "rebuild started" to
"engine swapped", or to the end for one the stop cut short; for a log without the start line, from
the swap time less its load, training and build seconds), a *retraining* in a child process
(from "retraining process started" to "finished"), or neither (*quiet*). The targets are read on
the windows outside rebuilds; what the rebuild windows show is reported beside them.

Usage: soak_report.py WINDOWS.jsonl SERVER.log START WINDOW_SECONDS
"""
import datetime
import json
import re
import sys

out, log, start, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(line) for line in open(out)]


def when(line):
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4})', line)
    return int(datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S%z').timestamp()) - start if m else None


def field(line, key):
    m = re.search(key + r'=([0-9.]+)', line)
    return float(m.group(1)) if m else 0.0


rebuilds, trainings, swaps, retrain_swaps = [], [], [], []
child_start = rebuild_start = None
for line in open(log):
    t = when(line)
    if t is None:
        continue
    if 'rebuild started' in line:
        rebuild_start = t
    elif 'engine swapped' in line:
        took = field(line, 'load_s') + field(line, 'train_s') + field(line, 'build_s')
        began = rebuild_start if rebuild_start is not None else t - took
        rebuilds.append((began, t, t - began))
        rebuild_start = None
        (retrain_swaps if 'retrained=true' in line else swaps).append(t)
    elif 'scheduled refresh failed' in line and rebuild_start is not None:
        rebuilds.append((rebuild_start, t, t - rebuild_start))
        rebuild_start = None
    elif 'retraining process started' in line:
        child_start = t
    elif 'retraining process finished' in line and child_start is not None:
        trainings.append((child_start, t))
        child_start = None
if child_start is not None:
    trainings.append((child_start, 10 ** 9))
if rebuild_start is not None:
    rebuilds.append((rebuild_start, 10 ** 9, None))


def overlaps(r, spans):
    return any(a - 1 <= r['end'] and r['start'] <= b + 1 for a, b, *_ in spans)


def errors(x):
    return x['errors_connect'] + x['errors_read'] + x['errors_write'] + x['errors_status'] + x['errors_timeout']


for r in rows:
    r['class'] = 'rebuild' if overlaps(r, rebuilds) else 'retraining' if overlaps(r, trainings) else 'quiet'

done = [r for r in rebuilds if r[2] is not None]
print(f"\nrebuilds: {len(done)} ended at {[b for _, b, _ in done]} s, taking {[round(s, 1) for _, _, s in done]} s"
      f"{'' if len(done) == len(rebuilds) else ' (one more running at the stop)'} "
      f"({len(retrain_swaps)} with retrained models, at {retrain_swaps} s); retraining children: "
      f"{[(a, b if b < 10 ** 9 else 'running') for a, b in trainings]} s")
print("\n| minute | reads/s | p50 (windows) | p99 max of windows | max | read errors | batches/s | RSS MiB | retraining child RSS MiB (max) | overlay | windows: quiet / retraining / rebuild |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for m in range(len(rows) * window // 60):
    ws = [r for r in rows if m * 60 <= r['start'] < (m + 1) * 60]
    if not ws:
        continue
    rd = [r['read'] for r in ws]
    req = sum(x['requests'] for x in rd)
    sec = sum(x['seconds'] for x in rd)
    ing = sum(r['ingest']['requests'] for r in ws) / sec
    classes = ' / '.join(str(sum(1 for r in ws if r['class'] == c)) for c in ('quiet', 'retraining', 'rebuild'))
    print(f"| {m + 1} | {req / sec:.0f} | {min(x['p50_ms'] for x in rd):.2f}–{max(x['p50_ms'] for x in rd):.2f} ms | "
          f"{max(x['p99_ms'] for x in rd):.2f} ms | {max(x['max_ms'] for x in rd):.0f} ms | {sum(errors(x) for x in rd)} | {ing:.1f} | "
          f"{ws[-1]['rss_kib'] / 1024:.0f} | {max(r.get('child_rss_kib', 0) for r in ws) / 1024:.0f} | {ws[-1]['overlay']} | {classes} |")

allerr = sum(errors(r['read']) + r['ingest']['errors_status'] for r in rows)
rps = sum(r['read']['requests'] for r in rows) / sum(r['read']['seconds'] for r in rows)
print(f"\nverdict: {allerr} errors (reads and writes); reads {rps:.0f}/s overall")
for c in ('quiet', 'retraining', 'rebuild'):
    ws = sorted(r['read']['p99_ms'] for r in rows if r['class'] == c)
    if ws:
        print(f"  {c:10s} {len(ws):3d} windows: p99 median {ws[len(ws) // 2]:.2f} ms, worst {ws[-1]:.2f} ms; "
              f"p50 worst {max(r['read']['p50_ms'] for r in rows if r['class'] == c):.2f} ms")
outside = [r for r in rows if r['class'] != 'rebuild']
if outside:
    worst = max(r['read']['p99_ms'] for r in outside)
    print(f"  p99 outside rebuild windows at most {worst:.2f} ms ({'met' if worst <= 10 else 'missed'}: target 10 ms)")
# Memory between rebuilds (a rebuild holds two snapshots until the swap): the first such window
# after warm-up (minute 3 on) against the last.
steady = [r for r in rows if r['start'] >= 120 and r['class'] != 'rebuild']
if len(steady) > 1:
    a, b = steady[0]['rss_kib'] / 1024, steady[-1]['rss_kib'] / 1024
    growth = (b - a) / a * 100
    print(f"  RSS outside rebuilds after warm-up {a:.0f} → {b:.0f} MiB ({growth:+.1f}%: {'met' if growth <= 10 else 'missed'}, target +10%); "
          f"peak of all windows {max(r['rss_kib'] for r in rows) / 1024:.0f} MiB; retraining child peak {max(r.get('child_rss_kib', 0) for r in rows) / 1024:.0f} MiB")
