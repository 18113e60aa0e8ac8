"""Speed-up of a 200-point certify_rates sweep (Nesterov, classical tuning) on 2 worker processes vs serial,
with a check that the rates are identical. Run: OMP_NUM_THREADS=1 python benchmarks/certify_workers.py"""
import time, numpy as np
from concurrent.futures import ProcessPoolExecutor
from polyak.verify.certificates import certify_rates
mu = 1.0; L = np.linspace(10, 200, 200)
def run(ex=None):
    t = time.perf_counter(); r = certify_rates("nesterov", mu, L, executor=ex); return time.perf_counter() - t, r
if __name__ == "__main__":
    run()  # warm
    t1, r1 = min((run() for _ in range(2)), key=lambda x: x[0])
    with ProcessPoolExecutor(2) as ex:
        run(ex)
        t2, r2 = min((run(ex) for _ in range(2)), key=lambda x: x[0])
    same = [getattr(a, "rate", a) for a in r1] == [getattr(b, "rate", b) for b in r2]
    print(f"200-point nesterov sweep (classical tuning, L in [10, 200]): serial {t1:.2f} s, 2 workers {t2:.2f} s, speed-up {t1/t2:.2f}x, identical {same}")
