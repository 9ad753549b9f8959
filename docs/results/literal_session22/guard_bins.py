"""Session 22: the host guard probe's launches binned by host time, with the largest reading over its
config's minimum in each bin (spin runs only). Where does inflation begin, against the guard's
window of 93.2 us (0.9 of the 103.6 us spin)?

    python3 docs/results/literal_session22/guard_bins.py > docs/results/literal_session22/guard_bins.txt
"""
import gzip
import json
d=json.load(gzip.open('docs/results/literal_session22/call2/host_guard_probe.json.gz'))
bins=[(0,93.2),(93.2,105),(105,112),(112,120),(120,1e9)]
for p in d['problems']:
    out=[]
    for lo,hi in bins:
        r_=[]
        for r in p['rows']:
            if 'spin' not in r: continue
            mn=min(x['gpu_us'] for x in r['spin'])
            r_+= [x['gpu_us']/mn for x in r['spin'] if lo<=x['host_us']<hi]
        r_.sort()
        out.append(f"[{lo:.0f},{hi:.0f}) n {len(r_)} max {r_[-1]:.2f}" if r_ else f"[{lo:.0f},{hi:.0f}) n 0")
    print("x".join(map(str,p['shape'])), " | ".join(out))
