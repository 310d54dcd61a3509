"""Build (once) a home with chains of 10 and 1000; time and cProfile verification."""
import cProfile, json, pstats, sys, time
from datetime import UTC, datetime
from pathlib import Path
ROOT = Path(sys.argv[1]); sys.path.insert(0, str(ROOT / "scripts")); sys.path.insert(0, str(ROOT))
from bench_lib.chains import build_chain, load_screening_lists, register_chain_parties
from bench_lib.library import PASSPHRASE
from bench_lib.workload import scenario
from ledger.home import Home, init_home
from ledger.keys import load_private_key
from ledger.verify import build_bundle, verify_bundle, verify_shipment_online
work = Path("/tmp/pv/home")
meta = Path("/tmp/pv/meta.json")
if not meta.exists():
    now = datetime.now(UTC)
    home = init_home(work, PASSPHRASE.encode(), now=now)
    ledger = home.open_ledger(PASSPHRASE.encode())
    load_screening_lists(ledger, now)
    s = scenario(ledger, load_private_key(home.registrar_key_path, PASSPHRASE.encode()))
    register_chain_parties(s, now)
    ids = {n: build_chain(ledger, s, n, f"V{n}") for n in (10, 1000)}
    meta.write_text(json.dumps(ids))
else:
    ledger = Home(work).open_ledger(None)
ids = {int(k): v for k, v in json.loads(meta.read_text()).items()}
mode = sys.argv[2] if len(sys.argv) > 2 else "time"
out = {}
for n, sid in ids.items():
    v = verify_shipment_online(ledger, sid)
    assert v.status == "pass", v.findings[:3]
    data = json.dumps(build_bundle(ledger, sid), separators=(",", ":")).encode()
    reps = max(3, 3000 // n)
    t = time.perf_counter()
    for _ in range(reps): verify_shipment_online(ledger, sid)
    on = n * reps / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(reps): verify_bundle(data, ledger.trust)
    off = n * reps / (time.perf_counter() - t)
    out[n] = (on, off)
    if (mode == "prof" and n == 1000) or (mode == "prof10" and n == 10):
        for name, fn in (("online", lambda: verify_shipment_online(ledger, sid)), ("offline", lambda: verify_bundle(data, ledger.trust))):
            pr = cProfile.Profile(); pr.enable(); [fn() for _ in range(2 if n == 1000 else 50)]; pr.disable()
            pstats.Stats(pr).sort_stats("tottime").print_stats(30)
            pstats.Stats(pr).sort_stats("cumulative").print_stats(45)
import nacl.signing
from ledger.keys import Signer
sg = Signer.generate(); msg = b"x" * 1100; sig = sg.sign(msg); pk = sg.public_key
t = time.perf_counter(); k = 0
while time.perf_counter() - t < 1:
    for _ in range(200): nacl.signing.VerifyKey(pk).verify(msg, sig)
    k += 200
y = k / (time.perf_counter() - t)
for n, (on, off) in out.items():
    print(f"chain {n}: online {on:,.0f}/s ({on/y:.3f}) offline {off:,.0f}/s ({off/y:.3f}); yardstick {y:,.0f}")
