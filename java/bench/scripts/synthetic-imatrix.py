#!/usr/bin/env python3
# A synthetic importance matrix for a GGUF model, in llama-imatrix's legacy .dat format: one positive value
# per input column (log-normal, seeded) for every 2-D+ weight tensor but token_embd. For benchmarks only.
#   synthetic-imatrix.py MODEL.gguf OUT.imatrix
import sys, struct, random, math
f = open(sys.argv[1], 'rb')
def rd(fmt): return struct.unpack('<' + fmt, f.read(struct.calcsize('<' + fmt)))
def rstr(): (n,) = rd('Q'); return f.read(n).decode()
sizes = {0:1,1:1,2:2,3:2,4:4,5:4,6:4,7:1,10:8,11:8,12:8}
def rval(t):
    if t == 8: return rstr()
    if t == 9:
        (et, n) = rd('IQ')
        return [rval(et) for _ in range(n)]
    f.read(sizes[t])
magic, ver, nt, nkv = rd('4sIQQ')
for _ in range(nkv):
    k = rstr(); (t,) = rd('I'); rval(t)
rnd = random.Random(1)
ents = []
for _ in range(nt):
    name = rstr(); (nd,) = rd('I'); dims = rd('%dQ' % nd); rd('IQ')
    if nd < 2 or not name.endswith('.weight') or name == 'token_embd.weight': continue
    ents.append((name, [math.exp(rnd.gauss(0, 1)) for _ in range(dims[0])]))
with open(sys.argv[2], 'wb') as o:
    o.write(struct.pack('<i', len(ents)))
    for name, v in ents:
        b = name.encode()
        o.write(struct.pack('<i', len(b))); o.write(b)
        o.write(struct.pack('<ii', 1, len(v))); o.write(struct.pack('<%df' % len(v), *v))
    o.write(struct.pack('<i', 1)); d = b'synthetic'; o.write(struct.pack('<i', len(d))); o.write(d)
print(len(ents))
