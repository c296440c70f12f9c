#!/usr/bin/env python3
"""Reference numbers for tests/cascade/test_cascade.c (test_known_cascade), from model.md §5 and
docs/margin.md step by step, in double precision, for the book of known.yaml (kept in sync by
hand). Usage:
    python3 known.py              # the main case (max_rounds 50, half-life = dt: decay 1/2)
    python3 known.py 2 0.5        # max_rounds 2
    python3 known.py 50 1.0       # permanent impact (no decay)
Full mode, one asset, linear impact, one ADL candidate (so the ranking does not matter)."""
import math, sys
def run(max_rounds=50, decay=0.5, verbose=True):
    S0=100.0; mmr=0.02; fee_rate=0.005; D=2000.0; F0=1.0
    steps_S=[95.0,90.0]
    acc=[("A","cross",65.0,[(10,100,0)]),
         ("B","cross",150.0,[(20,100,0)]),
         ("C","cross",820.0,[(100,100,0)]),
         ("D","cross",50.0,[(-3,100,0)]),
         ("E","cross",290.0,[(20,100,0)]),
         ("F","isolated",0.0,[(10,100,57.0)])]
    W=[a[2] for a in acc]; pos=[[list(p) for p in a[3]] for a in acc]
    fund=F0; fund_min=F0; L=dict(events=0,fees=0,deficits=0,fund_paid=0,adl=0,soc=0,notional=0,adl_notional=0)
    pr=print if verbose else (lambda *a,**k:None)
    def units():
        for ai,a in enumerate(acc):
            if a[1]=="cross": yield (ai,-1)
            else:
                for j in range(len(pos[ai])): yield (ai,j)
    def health(ai,j,m):
        if j<0:
            E=W[ai]+sum(q*(m-e) for q,e,M in pos[ai]); MM=sum(abs(q)*m*mmr for q,e,M in pos[ai]); op=any(q!=0 for q,e,M in pos[ai])
        else:
            q,e,M=pos[ai][j]; E=M+q*(m-e); MM=abs(q)*m*mmr; op=q!=0
        return E,MM,op
    liqable=lambda ai,j,m:(lambda h:h[2] and h[0]<=h[1])(health(ai,j,m))
    I=0.0; start_eq=[W[ai]+sum(q*(S0-e)+M for q,e,M in pos[ai]) for ai in range(len(acc))]
    first={}; hits=0; rmax=0; largest=0; minr=(9,0); adl_accts=set(); cascades=[]
    for t,St in enumerate(steps_S,1):
        I*=decay; m=St*math.exp(I); pr(f"step {t}: S={St} I={I!r} m={m!r}")
        if m/S0<minr[0]: minr=(m/S0,I)
        stepnot=0; r=0
        while r<max_rounds:
            Lq=[(ai,j) for ai,j in units() if liqable(ai,j,m)]
            if not Lq: break
            r+=1
            Q=sum(sum(-pos[ai][k][0] for k in (range(len(pos[ai])) if j<0 else [j])) for ai,j in Lq)
            X=Q*m; dI=0.01*X/D; p=m*math.exp(dI/2)
            pr(f" round {r}: m={m!r} units={[acc[a][0] for a,_ in Lq]} Q={Q} X={X!r} dI={dI!r} p={p!r}")
            for ai,j in Lq:
                ps=list(range(len(pos[ai]))) if j<0 else [j]
                E0,MM0,_=health(ai,j,m)
                base0=base=W[ai] if j<0 else pos[ai][j][2]
                notional=0; c_tot=0
                for k in ps:
                    q,e,M=pos[ai][k]; c=-q; base+=-c*(p-e); notional+=abs(c)*p; c_tot+=c; pos[ai][k][0]=0.0
                real=base-base0
                fee=min(fee_rate*notional,max(0,base)); base-=fee; fund+=fee; L['fees']+=fee
                deficit=paid=cov=soc=0
                if base<0:
                    deficit=-base; base=0; paid=min(fund,deficit); fund-=paid; rest=deficit-paid
                    L['deficits']+=deficit; L['fund_paid']+=paid
                    gap=rest/abs(c_tot); b=p+gap; left=rest; cap=abs(c_tot)
                    for bi in range(len(acc)):
                        if bi==ai: continue
                        for k,(q,e,M) in enumerate(pos[bi]):
                            if q<0 and q*(m-e)>0 and left>1e-9*rest and cap>0:
                                x=min(abs(q),cap,left/gap); W[bi]+=-x*(b-e); pos[bi][k][0]=q+x if x<abs(q) else 0.0
                                cap-=x; left-=x*gap; cov+=x*gap; L['adl_notional']+=x*b; adl_accts.add(bi)
                                pr(f"   ADL {acc[bi][0]}: x={x!r} gap={gap!r} b={b!r} gain={-x*(b-e)!r} W->{W[bi]!r}")
                    soc=rest-cov; L['adl']+=cov; L['soc']+=soc
                if j<0: W[ai]=base
                else: pos[ai][j][2]=base
                fund_min=min(fund_min,fund); L['notional']+=notional; stepnot+=notional; L['events']+=1
                first.setdefault(ai,t)
                pr(f"   {acc[ai][0]}: E(m)={E0!r} MM(m)={MM0!r} realized={real!r} notional={notional!r} fee={fee!r} kept={base!r} deficit={deficit!r} paid={paid!r} adl={cov!r} soc={soc!r} fund={fund!r}")
            I+=dI; m=m*math.exp(dI)
            if m/S0<minr[0]: minr=(m/S0,I)
        if r==max_rounds and any(liqable(ai,j,m) for ai,j in units()): hits+=1
        rmax=max(rmax,r); largest=max(largest,stepnot)
        if stepnot>0: cascades.append(stepnot)
        pr(f" step {t} end: rounds={r} I={I!r} m={m!r} notional={stepnot!r}")
    pr("ledger",L,"fund",fund,"fund_min",fund_min)
    pr("events",L['events'],"accounts",len(first),"largest",repr(largest),"rmax",rmax,"hits",hits,"min",minr,"adl_accts",len(adl_accts),"cascades",[(repr(c),math.floor(math.log10(c)*5)) for c in cascades])
    for ai in sorted(first):
        endeq=W[ai]+sum(q*(m-e)+M for q,e,M in pos[ai])
        loss=start_eq[ai]-endeq
        pr(acc[ai][0],"first",first[ai],"start_eq",start_eq[ai],"end_eq",repr(endeq),"loss",repr(loss),"micro",round(loss*1e6))
run(*[float(x) if '.' in x or 'inf' in x else int(x) for x in sys.argv[1:]])
