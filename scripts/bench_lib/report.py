"""The run's output: the targets of issue 5 judged, a table, results.json, plots, summary.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Result = dict[str, Any]

# (key, measure as the issue words it, comparison, target)
TARGETS: list[tuple[str, str, str, float]] = [
    ("append_batched", "library append, batched (full validation and signature check)", ">=", 0.6),
    (
        "append_batched_pool",
        "library append, batched, admission pool on the second core",
        ">=",
        0.6,
    ),
    ("append_single", "library append, one durable commit each", ">=", 0.25),
    ("http_single", "HTTP append, single route, 8 clients", ">=", 0.15),
    ("http_batch", "HTTP append, batch route", ">=", 0.5),
    ("verify_online", "shipment verification online, attestations/s", ">=", 0.6),
    ("verify_offline", "shipment verification offline (bundle), attestations/s", ">=", 0.6),
    ("append_flat", "append rate at the largest size vs at the smallest", ">=", 0.8),
    ("inclusion_flat", "inclusion proof time at the largest size vs at the smallest", "<=", 3),
    ("fixed_flat", "verifying one fixed shipment in the largest log vs the smallest", "<=", 1.2),
    ("db_bytes", "database bytes per entry vs envelope bytes", "<=", 2),
    ("server_rss", "peak RSS of the server appending, largest size vs smallest", "<=", 1.5),
    ("verifier_rss", "peak RSS verifying the longest chain vs the shortest", "<=", 3),
    ("dsse_peer", "our DSSE verification vs securesystemslib's, same envelopes", ">=", 1.5),
    ("merkle_peer", "our append + inclusion proof vs pymerkle's (SQLite), same leaves", ">=", 1),
]


def _pooled(size: Result) -> Result:
    """The batched append with the admission pool (runs before it had none: the plain one)."""
    pooled: Result = size.get("append_batched_pool", size["append_batched"])
    return pooled


def _ratio(value: float, yardstick: float) -> float:
    return value / yardstick


def judge(r: Result) -> list[dict[str, Any]]:
    """Each target with the run's value (the worst case where there are several)."""
    y = r["yardstick"]["verify_per_s"]
    sizes = r["sizes"]
    first, last = sizes[0], sizes[-1]
    chains = r["verification"]
    values: dict[str, tuple[float, str]] = {
        "append_batched": (
            min(_ratio(s["append_batched"]["rate"], y) for s in sizes),
            "worst size",
        ),
        "append_batched_pool": (
            min(_ratio(_pooled(s)["rate"], y) for s in sizes),
            "worst size",
        ),
        "append_single": (min(_ratio(s["append_single"]["rate"], y) for s in sizes), "worst size"),
        "http_single": (min(_ratio(s["http"]["single"]["rate"], y) for s in sizes), "worst size"),
        "http_batch": (min(_ratio(s["http"]["batch"]["rate"], y) for s in sizes), "worst size"),
        "verify_online": (min(_ratio(c["online"]["rate"], y) for c in chains), "worst chain"),
        "verify_offline": (min(_ratio(c["offline"]["rate"], y) for c in chains), "worst chain"),
        "append_flat": (
            last["append_batched"]["rate"] / first["append_batched"]["rate"],
            f"batched, {last['size']:,} vs {first['size']:,}",
        ),
        "inclusion_flat": (
            last["proofs"]["inclusion_gen_ms"] / first["proofs"]["inclusion_gen_ms"],
            f"{last['size']:,} vs {first['size']:,}",
        ),
        "fixed_flat": (
            last["fixed_shipment"]["online_ms"] / first["fixed_shipment"]["online_ms"],
            f"{last['size']:,} vs {first['size']:,}",
        ),
        "db_bytes": (last["storage"]["ratio"], f"SQLite at {last['size']:,}"),
        "server_rss": (
            last["http"]["server_rss"]["max_process_mib"]
            / first["http"]["server_rss"]["max_process_mib"],
            f"{last['size']:,} vs {first['size']:,}",
        ),
        "verifier_rss": (
            max(
                chains[-1]["rss_mib"][mode] / chains[0]["rss_mib"][mode]
                for mode in ("online", "offline")
            ),
            f"chain {chains[-1]['chain']} vs {chains[0]['chain']}, worse of online/offline",
        ),
        "dsse_peer": (r["peers"]["dsse"]["ratio"], "envelopes/s"),
        "merkle_peer": (
            min(r["peers"]["merkle"]["ratio_batched"], r["peers"]["merkle"]["ratio_single"]),
            "worse of batched / single commits",
        ),
    }
    out = []
    for key, measure, op, target in TARGETS:
        value, note = values[key]
        met = value >= target if op == ">=" else value <= target
        out.append(
            {
                "key": key,
                "measure": measure,
                "target": f"{op} {target:g}",
                "value": value,
                "met": met,
                "note": note,
            }
        )
    return out


def _fmt(x: float) -> str:
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _rate(x: float, y: float) -> str:
    return f"{_fmt(x)} ({x / y:.3f})"


def tables(r: Result) -> str:
    """Markdown tables of every measure: absolute, and (ratio to the yardstick)."""
    y = r["yardstick"]["verify_per_s"]
    lines = [
        f"Yardstick: raw PyNaCl Ed25519 verify, {_fmt(y)}/s on one core "
        f"(start {_fmt(r['yardstick']['start'])}/s, end {_fmt(r['yardstick']['end'])}/s). "
        "Rates are per second, (ratio to the yardstick).",
        f"Envelopes: {r['workload']['envelope_bytes_mean']:.0f} bytes on average "
        f"({', '.join(f'{k} {v:.0f}' for k, v in r['workload']['by_type'].items())}).",
        "",
        "| log size | build (batches of 1000) | append batched (500) | batched, pool "
        "| append, commit each "
        "| HTTP single (8 clients) | HTTP batch | inclusion gen / verify ms "
        "| consistency gen / verify ms | fixed shipment ms | DB bytes/entry (x envelope) "
        "| WAL bytes/entry, one batch | server peak RSS MiB |",
        "|" + " --- |" * 13,
    ]
    for s in r["sizes"]:
        p = s["proofs"]
        lines.append(
            f"| {s['size']:,} | {_fmt(s['build']['rate'])} | "
            f"{_rate(s['append_batched']['rate'], y)} | "
            f"{_rate(_pooled(s)['rate'], y)} | "
            f"{_rate(s['append_single']['rate'], y)} | "
            f"{_rate(s['http']['single']['rate'], y)} | {_rate(s['http']['batch']['rate'], y)} | "
            f"{p['inclusion_gen_ms']:.3f} / {p['inclusion_verify_ms']:.3f} | "
            f"{p['consistency_gen_ms']:.3f} / {p['consistency_verify_ms']:.3f} | "
            f"{s['fixed_shipment']['online_ms']:.1f} | "
            f"{s['storage']['bytes_per_entry']:.0f} ({s['storage']['ratio']:.2f}) | "
            f"{s['wal']['wal_bytes_per_entry']:,.0f} | "
            f"{s['http']['server_rss']['max_process_mib']:.0f} |"
        )
    by_table = r["sizes"][-1]["storage"].get("by_table")
    if by_table:
        top = sorted(by_table.items(), key=lambda kv: -kv[1])[:12]
        lines += [
            "",
            f"Where the bytes go at {r['sizes'][-1]['size']:,} entries (SQLite dbstat, "
            "bytes per entry; the envelope is "
            f"{r['sizes'][-1]['storage']['envelope_bytes_per_entry']:.0f}):",
            "",
            "| table or index | bytes/entry |",
            "| --- | --- |",
        ]
        lines += [f"| {name} | {size:,.0f} |" for name, size in top]
    lines += [
        "",
        "| chain | relied on | online att/s | offline att/s | bundle KiB "
        "| peak RSS online / offline MiB |",
        "|" + " --- |" * 6,
    ]
    for c in r["verification"]:
        lines.append(
            f"| {c['chain']:,} | {c['relied_on']:,} | {_rate(c['online']['rate'], y)} | "
            f"{_rate(c['offline']['rate'], y)} | {c['bundle_bytes'] / 1024:.0f} | "
            f"{c['rss_mib']['online']:.0f} / {c['rss_mib']['offline']:.0f} |"
        )
    d, m = r["peers"]["dsse"], r["peers"]["merkle"]
    sslib = r["machine"]["libraries"]["securesystemslib"]
    lines += [
        "",
        "| peer | ours | theirs | ratio (ours faster > 1) |",
        "| --- | --- | --- | --- |",
        f"| DSSE verify, envelopes/s (securesystemslib {sslib}) "
        f"| {_rate(d['ours_per_s'], y)} | {_rate(d['securesystemslib_per_s'], y)} "
        f"| {d['ratio']:.2f} |",
    ]
    for key, label in (
        ("append_batched_per_s", "append, batches of 500, /s"),
        ("append_single_per_s", "append, commit each, /s"),
    ):
        lines.append(
            f"| pymerkle SqliteTree, {m['leaves']:,} leaves: {label} | {_fmt(m['ours'][key])} "
            f"| {_fmt(m['pymerkle'][key])} | {m['ours'][key] / m['pymerkle'][key]:.2f} |"
        )
    for key, label in (
        ("proof_gen_ms", "inclusion proof ms"),
        ("proof_verify_ms", "verify inclusion ms"),
    ):
        lines.append(
            f"| pymerkle SqliteTree: {label} | {m['ours'][key]:.3f} | {m['pymerkle'][key]:.3f} "
            f"| {m['pymerkle'][key] / m['ours'][key]:.2f} |"
        )
    lines.append(
        f"| pymerkle: append + inclusion proof (batched / commit each) | | "
        f"| {m['ratio_batched']:.2f} / {m['ratio_single']:.2f} |"
    )
    pg = r.get("postgres")
    if pg:
        lines += [
            "",
            f"PostgreSQL {pg['version']} beside SQLite (library):",
            "",
            "| log size | append batched | append, commit each | inclusion gen ms "
            "| fixed shipment ms | DB bytes/entry (x envelope) |",
            "|" + " --- |" * 6,
        ]
        for s in pg["sizes"]:
            lines.append(
                f"| {s['size']:,} | {_rate(s['append_batched']['rate'], y)} | "
                f"{_rate(s['append_single']['rate'], y)} | "
                f"{s['proofs']['inclusion_gen_ms']:.3f} | "
                f"{s['fixed_shipment']['online_ms']:.1f} | "
                f"{s['storage']['bytes_per_entry']:.0f} ({s['storage']['ratio']:.2f}) |"
            )
    return "\n".join(lines)


def targets_table(targets: list[dict[str, Any]]) -> str:
    lines = ["| measure | target | this run | met |", "| --- | --- | --- | --- |"]
    for t in targets:
        lines.append(
            f"| {t['measure']} | {t['target']} | {t['value']:.3f} ({t['note']}) "
            f"| {'met' if t['met'] else 'NOT met'} |"
        )
    return "\n".join(lines)


def _load_note(r: Result) -> str:
    """Whether other work shared the machine: it makes the figures low and noisy."""
    m = r["machine"]
    share = m["cpu_used_by_others"]["others_share"]
    text = (
        f"Other processes used {100 * share:.0f}% of the machine's CPU during the run "
        f"(load average {m['load_average_at_start'][0]:.2f} at the start)"
    )
    if r.get("postgres"):
        text += "; PostgreSQL's own processes count among them"
    if share > 0.15:
        text += (
            ". **The machine was busy: these figures are low and noisy; run again on a quiet one**"
        )
    return text + "."


def _kind(r: Result) -> str:
    sizes = r["config"]["sizes"]
    if r["config"]["quick"]:
        return "quick run"
    if sizes[-1] >= 1_000_000:
        return "full run"
    return "run at " + ", ".join(f"{s:,}" for s in sizes) + " entries"


def summary_markdown(r: Result) -> str:
    m = r["machine"]
    head = [
        f"# lotchain benchmark, {m['date'][:10]}, {m['hostname']}",
        "",
        f"`{r['command']}` ({_kind(r)}, "
        f"{r['timing']['total_seconds']:.0f} s; commit {m['commit']}).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}, "
        f"SQLite {m['sqlite']}"
        + (f", PostgreSQL {m['postgresql']}" if m["postgresql"] else "")
        + f"; {m['platform']}.",
        "",
        _load_note(r),
        "",
        "## Targets (issue 5)",
        "",
        "Ratios are to the raw Ed25519 verify rate of the same run. The full run's sizes are "
        "1 k, 100 k and 1 M; a smaller run compares its own largest and smallest sizes.",
        "",
        targets_table(r["targets"]),
        "",
        "## Measures",
        "",
        tables(r),
        "",
        "## Time",
        "",
        f"Building the logs: {r['timing']['build_seconds']:.0f} s of "
        f"{r['timing']['total_seconds']:.0f} s in all.",
    ]
    est = r.get("estimate_full_run")
    if est:
        head.append(
            f"Estimated full run (1 k, 100 k, 1 M): about {est['seconds'] / 60:.0f} min, of "
            f"which about {est['build_seconds'] / 60:.0f} min building the 1 M log at "
            f"{est['build_rate']:,.0f} entries/s ({est['basis']})."
        )
    head += ["", "Plots: " + ", ".join(f"`{p}`" for p in r["plots"]) + "."]
    if r.get("profiles"):
        head += [
            "",
            "Profiles (pyinstrument in the benchmark process; py-spy on the server, in extra "
            "rounds outside the timed windows): " + ", ".join(f"`{p}`" for p in r["profiles"]),
        ]
    return "\n".join(head) + "\n"


def plots(r: Result, out: Path) -> list[str]:
    """PNG plots of rates and times against log size (and chain length)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = r["yardstick"]["verify_per_s"]
    sizes = [s["size"] for s in r["sizes"]]
    made: list[str] = []

    def series(get: Callable[[Result], float], src: list[Result] | None = None) -> list[float]:
        return [get(s) for s in (src if src is not None else r["sizes"])]

    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot(
        sizes, series(lambda s: s["append_batched"]["rate"]), "o-", label="library, batches of 500"
    )
    ax.plot(sizes, series(lambda s: _pooled(s)["rate"]), "o--", label="library, batches, pool")
    ax.plot(sizes, series(lambda s: s["append_single"]["rate"]), "o-", label="library, commit each")
    ax.plot(sizes, series(lambda s: s["http"]["batch"]["rate"]), "s-", label="HTTP batch route")
    ax.plot(
        sizes, series(lambda s: s["http"]["single"]["rate"]), "s-", label="HTTP single, 8 clients"
    )
    curve = r["build_curve"]
    if curve:
        ax.plot(
            [c["size"] for c in curve],
            [c["rate"] for c in curve],
            ".",
            alpha=0.6,
            label="while building (batches of 1000)",
        )
    pg = r.get("postgres")
    if pg:
        ax.plot(
            [s["size"] for s in pg["sizes"]],
            [s["append_batched"]["rate"] for s in pg["sizes"]],
            "^--",
            label="PostgreSQL, batches of 500",
        )
    ax.axhline(y, color="black", linestyle=":", label="yardstick: raw verify")
    ax.axhline(0.6 * y, color="grey", linestyle="--", linewidth=0.8, label="target batched 0.6x")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="log size (entries)",
        ylabel="entries / s",
        title="Append rate against log size",
    )
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "append_rate.png", dpi=110)
    plt.close(fig)
    made.append("append_rate.png")

    fig, ax = plt.subplots(figsize=(8, 5))
    for key, label in (
        ("inclusion_gen_ms", "inclusion proof, generate"),
        ("inclusion_verify_ms", "inclusion proof, verify"),
        ("consistency_gen_ms", "consistency proof, generate"),
        ("consistency_verify_ms", "consistency proof, verify"),
    ):
        ax.plot(sizes, [s["proofs"][key] for s in r["sizes"]], "o-", label=label)
    ax.plot(
        sizes,
        series(lambda s: s["fixed_shipment"]["online_ms"]),
        "s-",
        label="verify the fixed 10-attestation shipment (online)",
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="log size (entries)",
        ylabel="ms",
        title="Proof and verification time against log size",
    )
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "proof_time.png", dpi=110)
    plt.close(fig)
    made.append("proof_time.png")

    chains = r["verification"]
    fig, ax = plt.subplots(figsize=(8, 5))
    lengths = [c["chain"] for c in chains]
    ax.plot(lengths, [c["online"]["rate"] for c in chains], "o-", label="online")
    ax.plot(lengths, [c["offline"]["rate"] for c in chains], "s-", label="offline (bundle)")
    ax.axhline(y, color="black", linestyle=":", label="yardstick: raw verify")
    ax.axhline(0.6 * y, color="grey", linestyle="--", linewidth=0.8, label="target 0.6x")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="chain length (attestations)",
        ylabel="attestations / s",
        title="Shipment verification rate",
    )
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "verification_rate.png", dpi=110)
    plt.close(fig)
    made.append("verification_rate.png")
    return made


def write(r: Result, out: Path) -> None:
    """results.json, the plots and summary.md into ``out``; the tables to stdout."""
    out.mkdir(parents=True, exist_ok=True)
    r["targets"] = judge(r)
    r["plots"] = plots(r, out)
    (out / "results.json").write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    text = summary_markdown(r)
    (out / "summary.md").write_text(text, encoding="utf-8")
    print(tables(r))
    print()
    print(targets_table(r["targets"]))
    print(f"\nwrote {out}/results.json, summary.md, {', '.join(r['plots'])}")


def verify_tables(r: Result) -> str:
    """``--only verify``: the chains and the DSSE peer, with their targets."""
    y = r["yardstick"]["verify_per_s"]
    d = r["peers"]["dsse"]
    lines = [
        f"Yardstick: raw PyNaCl Ed25519 verify, {_fmt(y)}/s on one core "
        f"(start {_fmt(r['yardstick']['start'])}/s, end {_fmt(r['yardstick']['end'])}/s). "
        "Rates are per second, (ratio to the yardstick).",
        "",
        "| chain | relied on | online att/s | offline att/s | bundle KiB "
        "| peak RSS online / offline MiB |",
        "|" + " --- |" * 6,
    ]
    for c in r["verification"]:
        lines.append(
            f"| {c['chain']:,} | {c['relied_on']:,} | {_rate(c['online']['rate'], y)} | "
            f"{_rate(c['offline']['rate'], y)} | {c['bundle_bytes'] / 1024:.0f} | "
            f"{c['rss_mib']['online']:.0f} / {c['rss_mib']['offline']:.0f} |"
        )
    lines += [
        "",
        "| chain | offline att/s, multi-proof bundle | bundle KiB, per-leaf / multi-proof |",
        "| --- | --- | --- |",
    ]
    for c in r["verification"]:
        m = c.get("offline_multiproof")
        if m:
            lines.append(
                f"| {c['chain']:,} | {_rate(m['rate'], y)} | {c['bundle_bytes'] / 1024:.0f} / "
                f"{c['bundle_multiproof_bytes'] / 1024:.0f} |"
            )
    online = min(c["online"]["rate"] for c in r["verification"]) / y
    offline = min(c["offline"]["rate"] for c in r["verification"]) / y
    lines += [
        "",
        f"DSSE verify, envelopes/s: ours {_rate(d['ours_per_s'], y)}, securesystemslib "
        f"{_rate(d['securesystemslib_per_s'], y)}, ratio {d['ratio']:.2f} (target >= 1.5).",
        f"Worst chain: online {online:.3f}, offline {offline:.3f} (target >= 0.6).",
    ]
    return "\n".join(lines)


def write_verify_only(r: Result, out: Path) -> None:
    """results.json and summary.md of a ``--only verify`` run."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    m = r["machine"]
    text = (
        f"# lotchain verification benchmark, {m['date'][:10]}, {m['hostname']}\n\n"
        f"`{r['command']}` ({r['timing']['total_seconds']:.0f} s; commit {m['commit']}).\n\n"
        f"{_load_note(r)}\n\n{verify_tables(r)}\n"
    )
    (out / "summary.md").write_text(text, encoding="utf-8")
    print(verify_tables(r))
    print(f"\nwrote {out}/results.json, summary.md")
