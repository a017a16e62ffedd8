# Reference for Crauste_CellSystems2017 (the model's nominal parameters, 0..10, 11 points): libRoadRunner
# (CVODE) at relative 1e-13, absolute 1e-18, checked against scipy's DOP853 on libRoadRunner's right-hand
# side at relative 1e-13. Made with (from the worktree root):
#   ~/.cache/twinbank-anchors/bin/python Tests/TwinSBMLTests/Resources/crauste_reference.py \
#     ../shared/data/petab-benchmark-collection/Crauste_CellSystems2017/model_Crauste_CellSystems2017.xml \
#     > Tests/TwinSBMLTests/Resources/crauste-reference.csv
import sys, numpy as np, roadrunner as rr
from scipy.integrate import solve_ivp
r = rr.RoadRunner(sys.argv[1])
ids = list(r.model.getFloatingSpeciesIds())
r.integrator.setValue('relative_tolerance', 1e-13); r.integrator.setValue('absolute_tolerance', 1e-18)
r.integrator.setValue('maximum_num_steps', 10**8)
r.timeCourseSelections = ['time'] + ['[%s]' % i for i in ids]
res = r.simulate(0, 10, 11)
r2 = rr.RoadRunner(sys.argv[1])
y0 = np.array(r2.model.getFloatingSpeciesConcentrations())
def f(t, y):
    r2.model.setTime(t); r2.model.setFloatingSpeciesConcentrations(y)
    return np.array(r2.model.getFloatingSpeciesConcentrationRates())
sol = solve_ivp(f, (0, 10), y0, method='DOP853', rtol=1e-13, atol=1e-14, t_eval=res[:, 0])
dev = np.max(np.abs(sol.y.T - res[:, 1:]) / np.maximum(np.abs(res[:, 1:]), 1e-300))
print('# libRoadRunner ' + rr.__version__ + ' CVODE rtol 1e-13 atol 1e-18; max relative deviation from DOP853 rtol 1e-13: %.2e' % dev)
print(','.join(['time'] + ids))
for row in res: print(','.join('%.17g' % v for v in row))
