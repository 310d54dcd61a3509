import importlib.util, sys, time, json
from pathlib import Path
NEW = Path("/work/wt-perf-verify"); sys.path.insert(0, str(NEW / "scripts")); sys.path.insert(0, str(NEW))
import bench, nacl.signing
from ledger import dsse, keys as K
spec = importlib.util.spec_from_file_location("old_dsse", "/work/main/ledger/dsse.py")
old = importlib.util.module_from_spec(spec); sys.modules["old_dsse"] = old; spec.loader.exec_module(old)
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
env, keys, _ = bench.workload_sample(60)
sk = {k: SSlibKey(k, "ed25519", "ed25519", {"public": v.hex()}) for k, v in keys.items()}
items = bench.yardstick_items(env, keys)
def oldverify(p, m, s):
    nacl.signing.VerifyKey(p).verify(m, s); return True
fns = {
 "parse main": lambda: [old.parse_envelope(e) for e in env],
 "parse branch": lambda: [dsse.parse_envelope(e) for e in env],
 "verify main (=yardstick)": lambda: [oldverify(p, m, s) for p, m, s in items],
 "verify branch": lambda: [K.verify_signature(p, m, s) for p, m, s in items],
 "sslib parse+verify": lambda: [Envelope.from_dict(json.loads(d)).verify([sk[k] for k in Envelope.from_dict(json.loads(d)).signatures], 1) for d in env],
 "sslib parse": lambda: [Envelope.from_dict(json.loads(d)) for d in env],
}
best = {k: 1e9 for k in fns}
for _ in range(60):
    for k, f in fns.items():
        t = time.perf_counter(); f(); best[k] = min(best[k], time.perf_counter() - t)
for k, v in best.items():
    print(f"{k}: {v / len(env) * 1e6:.2f} us")
pm, pb, vm, vb = (best[k] / len(env) for k in ("parse main", "parse branch", "verify main (=yardstick)", "verify branch"))
ss = best["sslib parse+verify"] / len(env) - best["sslib parse"] / len(env)  # sslib parse counted twice above
print(f"ours/yardstick: main {vm/(pm+vm):.3f}, branch {vm/(pb+vb):.3f}; vs sslib: main {ss/(pm+vm):.3f} branch {ss/(pb+vb):.3f}")
