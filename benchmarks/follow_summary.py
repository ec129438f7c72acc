#!/usr/bin/env python3
"""Condenses `orbit evaluate follow --report` tables (benchmarks/follow_graphs.sh writes one per
graph) for BENCHMARKS.md: per graph, the blend chosen on validation, the best blend on test,
every baseline and single source, and the ranker chosen on validation, then one summary line
with the ranker against the best of all other rows on test (the strictest reading of issue 12's
target: the best other row is picked by its test figure, which no method could choose).

Usage: follow_summary.py GRAPH.md [GRAPH.md ...]
"""
import os
import re
import sys


def rows(path):
    out, union = [], ""
    for line in open(path):
        if line.startswith("candidate union recall"):
            union = line.strip()
        if not line.startswith("| ") or line.startswith("| method") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = cells[0]
        chosen = "(chosen on validation)" in name
        name = name.replace(" **(chosen on validation)**", "")
        out.append(dict(name=name, chosen=chosen, val=float(cells[1]), test=float(cells[2]), recall20=float(cells[3]),
                        ndcg=float(cells[4]), coverage=float(cells[5])))
    return out, union


def line(r, note=""):
    mark = " **(chosen on validation)**" if r["chosen"] else ""
    return f"| {r['name']}{note}{mark} | {r['val']:.4f} | {r['test']:.4f} | {r['recall20']:.4f} | {r['ndcg']:.4f} | {r['coverage']:.4f} |"


summary, ablations, ablation_names = [], [], []
for path in sys.argv[1:]:
    graph = os.path.basename(path).removesuffix(".md")
    rs, union = rows(path)
    rankers = [r for r in rs if r["name"].startswith("ranker")]
    others = [r for r in rs if not r["name"].startswith("ranker")]
    blends = [r for r in others if r["name"].startswith("blend")]
    ranker = next(r for r in rankers if r["chosen"])
    blend = next(r for r in blends if r["chosen"])
    best_blend = max(blends, key=lambda r: r["test"])
    best_other = max(others, key=lambda r: r["test"])
    print(f"#### {graph}\n")
    print("| method | val HR@10 | test HR@10 | test Recall@20 | test NDCG@10 | coverage@10 |\n|---|---|---|---|---|---|")
    if best_blend is not blend:
        print(line(best_blend, " (best blend on test, not chosen)"))
    print(line(blend))
    for r in others:
        if r["name"].startswith(("baseline", "source")):
            print(line(r))
    print(line(ranker))
    print(f"\n{union}\n")
    abl = [r for r in rankers if r["name"].startswith("ranker (chosen settings) ")]
    ablation_names = [r["name"].removeprefix("ranker (chosen settings) ") for r in abl]
    ablations.append(f"| {graph} | {ranker['test']:.4f} (val {ranker['val']:.4f}) | "
                     + " | ".join(f"{r['test']:.4f} (val {r['val']:.4f})" for r in abl) + " |")
    m = re.search(r"test ([0-9.]+);", union)
    summary.append(f"| {graph} | {ranker['val']:.4f} / {ranker['test']:.4f} | {blend['val']:.4f} / {blend['test']:.4f} | "
                   f"{best_other['test']:.4f} ({best_other['name']}) | {ranker['test'] / best_other['test']:.3f}× | "
                   f"{ranker['test'] / blend['test']:.3f}× | {m.group(1) if m else '?'} | "
                   f"{'ranker' if ranker['val'] > blend['val'] else 'blend'} |")
print("| graph | ranker (chosen) val / test HR@10 | blend (chosen) val / test HR@10 | best other on test (row) | ranker ÷ best other | "
      "ranker ÷ chosen blend | union recall (test) | served by the validation rule |\n|---|---|---|---|---|---|---|---|")
print("\n".join(summary))
print("\nAblations (the chosen settings without one feature group; test HR@10, validation in brackets):\n")
print("| graph | ranker | " + " | ".join(ablation_names) + " |\n|---|---|" + "---|" * len(ablation_names))
print("\n".join(ablations))
