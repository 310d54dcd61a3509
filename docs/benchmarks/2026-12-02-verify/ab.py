"""CPU-time A/B: verification of the chains in /tmp/pv/home by ROOT's code, and the yardstick."""
import json, sys, time
from pathlib import Path
ROOT = Path(sys.argv[1]); sys.path.insert(0, str(ROOT))
import ledger; assert str(ledger.__file__).startswith(str(ROOT))
import nacl.signing
from ledger.home import Home
from ledger.keys import Signer
from ledger.verify import build_bundle, verify_bundle, verify_shipment_online
ledger_ = Home(Path("/tmp/pv/home")).open_ledger(None)
ids = {int(k): v for k, v in json.loads(Path("/tmp/pv/meta.json").read_text()).items()}
sg = Signer.generate(); msg = b"x" * 1100; sig = sg.sign(msg); pk = sg.public_key
def cpu(f, reps):
    best = 1e9
    for _ in range(reps):
        t = time.process_time(); f(); best = min(best, time.process_time() - t)
    return best
def yard():
    for _ in range(500): nacl.signing.VerifyKey(pk).verify(msg, sig)
y = 500 / cpu(yard, 15)
out = {}
for n, sid in sorted(ids.items()):
    data = json.dumps(build_bundle(ledger_, sid), separators=(",", ":")).encode()
    reps = 25 if n < 100 else 5
    on = n / cpu(lambda: verify_shipment_online(ledger_, sid), reps)
    off = n / cpu(lambda: verify_bundle(data, ledger_.trust), reps)
    out[n] = (on / y, off / y)
y2 = 500 / cpu(yard, 15)
print(ROOT.name, {n: f"online {a:.3f} offline {b:.3f}" for n, (a, b) in out.items()}, f"yardstick {y:,.0f}/{y2:,.0f}")
