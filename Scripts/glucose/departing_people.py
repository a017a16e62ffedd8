"""People who depart from the glucose twin's model, made with simglucose (issue 26, item 3).

Each person is a simglucose patient x a meal plan, simulated for 24 h at 1-minute steps with:
  - simglucose's basal-bolus controller (BBController) dosing for the ANNOUNCED carbohydrate, while the person
    eats the announced amount times a seeded relative error (sd 25 %) and unannounced snacks;
  - insulin sensitivity (the patient's Vmx) varying over the day: Vmx(t) = Vmx * (1 + A sin(2 pi (t - phi) / 24 h)),
    A in [0.2, 0.4], phi seeded, set between steps;
  - CGM (a) truth + white noise of sd 8 mg/dL and (b) simglucose's own sensor models (Dexcom, GuardianRT,
    Navigator: correlated Johnson-distributed noise, each sensor's sampling period, zero-order hold).
Columns: Time, BG (noise-free truth), CGM (white 8), CGM_Dexcom, CGM_GuardianRT, CGM_Navigator, CHO (eaten, g/min),
CHO_announced (g/min), insulin (U/min), Vmx_factor.

Split (by patient AND meal plan, so nothing tuned on is reported on):
  tune: patients #001-#005 of each age group on meal plans A and B (30 people)
  test: patients #006-#010 of each age group on meal plans C and D (30 people)
Everything is drawn from --seed (default 26): the same seed writes the same files, byte for byte.

Usage: ~/.cache/twinbank-anchors/bin/python Scripts/glucose/departing_people.py [--out DIR] [--seed 26]
           [--hours 24] [--split tune|test|all] [--only adult#001]
Writes DIR/<person>.csv and DIR/manifest.json (never into the repository). The manifest lists every person of both
splits whichever --split is simulated, so `--split tune` and `--split test` may run side by side into one folder.
"""
import argparse, json, logging, math, os, sys, zlib
from datetime import datetime, timedelta
import numpy as np, pandas as pd, pkg_resources
from simglucose.patient.t1dpatient import T1DPatient
from simglucose.sensor.cgm import CGMSensor
from simglucose.sensor.noise_gen import CGMNoise
from simglucose.actuator.pump import InsulinPump
from simglucose.simulation.scenario import CustomScenario
from simglucose.simulation.env import T1DSimEnv
from simglucose.controller.basal_bolus_ctrller import BBController
logging.disable(logging.CRITICAL)

START = datetime(2024, 1, 1, 0, 0, 0)
# Meal plans: (hour after midnight, announced grams). A, B tune; C, D test.
PLANS = {
    'A': [(7.0, 45), (12.0, 70), (18.0, 80)],
    'B': [(8.0, 60), (13.5, 50), (19.5, 90)],
    'C': [(6.5, 50), (11.5, 80), (17.0, 60), (21.0, 30)],
    'D': [(9.0, 70), (14.0, 40), (20.0, 100)],
}
SPLITS = {'tune': (range(1, 6), ['A', 'B']), 'test': (range(6, 11), ['C', 'D'])}
GROUPS = ['adolescent', 'adult', 'child']
SENSORS = ['Dexcom', 'GuardianRT', 'Navigator']
MEAL_ERROR_SD = 0.25
SENSOR_PARAMS = pd.read_csv(pkg_resources.resource_filename('simglucose', 'params/sensor_params.csv'))


class IdealCGM(CGMSensor):
    """No noise, 1-minute sampling: the environment's CGM is the truth (noise is added afterwards)."""
    def __init__(self):
        self._params = pd.Series({'Name': 'Ideal', 'sample_time': 1.0, 'min': 0.0, 'max': 10000.0})
        self.name = 'Ideal'; self.sample_time = 1.0; self._seed = None; self._last_CGM = 0
    def measure(self, patient):
        return patient.observation.Gsub
    def reset(self):
        pass


class AnnouncedBB(BBController):
    """simglucose's basal-bolus controller that sees the announced meal, not the eaten one."""
    def __init__(self, announced):
        super().__init__(); self.announced = announced
    def policy(self, observation, reward, done, **kwargs):
        # the environment's info after a step carries the meal of the minute just simulated (info['time'] is the next)
        t = kwargs.get('time')
        minute = int(round((t - START).total_seconds() / 60)) - 1 if t is not None else -1
        kwargs['meal'] = self.announced.get(minute, 0.0)
        return super().policy(observation, reward, done, **kwargs)


def person_seed(seed, name):
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % (2**32)


def design(seed, patient, plan, hours):
    """The person's departures, drawn from the seed and the person's name only."""
    name = f"{patient}-{plan}"
    rng = np.random.RandomState(person_seed(seed, name))
    meals = []
    for h, g in PLANS[plan]:
        factor = max(0.3, 1 + MEAL_ERROR_SD * rng.randn())
        meals.append({'hour': h, 'announced': float(g), 'eaten': round(float(g) * factor, 1)})
    snacks = []
    for _ in range(rng.randint(1, 3)):   # one or two unannounced snacks
        snacks.append({'hour': round(float(rng.uniform(9.5, 22.5)), 2), 'eaten': round(float(rng.uniform(10, 30)), 1)})
    amplitude = round(float(rng.uniform(0.2, 0.4)), 3)
    phase = round(float(rng.uniform(0, 24)), 2)
    return {'name': name, 'patient': patient, 'plan': plan, 'hours': hours, 'meals': meals, 'snacks': snacks,
            'meal_error_sd': MEAL_ERROR_SD, 'vmx_amplitude': amplitude, 'vmx_phase_hours': phase,
            'sensor_seed': int(rng.randint(0, 2**31 - 1)), 'white_seed': int(rng.randint(0, 2**31 - 1))}


def vmx_factor(d, minute):
    return 1 + d['vmx_amplitude'] * math.sin(2 * math.pi * (minute / 60 - d['vmx_phase_hours']) / 24)


def simulate(d):
    eaten, announced = {}, {}
    for m in d['meals']:
        k = int(round(m['hour'] * 60)); eaten[k] = eaten.get(k, 0) + m['eaten']; announced[k] = announced.get(k, 0) + m['announced']
    for s in d['snacks']:
        k = int(round(s['hour'] * 60)); eaten[k] = eaten.get(k, 0) + s['eaten']
    scenario = [(k / 60, g) for k, g in sorted(eaten.items())]
    patient = T1DPatient.withName(d['patient'])
    vmx = float(patient._params['Vmx'])
    env = T1DSimEnv(patient, IdealCGM(), InsulinPump.withName('Insulet'), CustomScenario(start_time=START, scenario=scenario))
    ctrl = AnnouncedBB(announced)
    obs, reward, done, info = env.reset()
    factors = []
    while env.time < START + timedelta(hours=d['hours']):
        minute = int(round((env.time - START).total_seconds() / 60))
        f = vmx_factor(d, minute); factors.append(f)
        patient._params['Vmx'] = vmx * f
        action = ctrl.policy(obs, reward, done, **info)
        obs, reward, done, info = env.step(action)
    factors.append(vmx_factor(d, len(factors)))
    df = env.show_history().reset_index()
    bg = df['BG'].to_numpy()
    n = len(bg)
    out = pd.DataFrame({'Time': df['Time'].dt.strftime('%Y-%m-%d %H:%M:%S'), 'BG': bg})
    white = np.random.RandomState(d['white_seed'])
    out['CGM'] = bg + 8.0 * white.randn(n)
    for i, s in enumerate(SENSORS):
        p = SENSOR_PARAMS.loc[SENSOR_PARAMS.Name == s].squeeze()
        noise = CGMNoise(p, seed=d['sensor_seed'] + i)
        step = int(p.sample_time); last = 0.0; col = np.empty(n)
        for t in range(n):
            if t % step == 0:
                last = min(max(bg[t] + next(noise), p['min']), p['max'])
            col[t] = last
        out[f'CGM_{s}'] = col
    cho = df['CHO'].fillna(0).to_numpy()
    out['CHO'] = cho
    out['CHO_announced'] = [announced.get(t, 0.0) for t in range(n)]
    out['insulin'] = df['insulin'].fillna(0).to_numpy()
    out['Vmx_factor'] = factors[:n]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.path.expanduser('~/.cache/twinbank-glucose-departures'))
    ap.add_argument('--seed', type=int, default=26)
    ap.add_argument('--hours', type=float, default=24)
    ap.add_argument('--split', choices=['tune', 'test', 'all'], default='all')
    ap.add_argument('--only', help='only this patient (e.g. adult#001): a quick check')
    a = ap.parse_args()
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
    out = os.path.abspath(a.out)
    if out == repo or out.startswith(repo + os.sep):
        sys.exit(f"--out {a.out} is inside the repository; the set is data, write it elsewhere")
    os.makedirs(out, exist_ok=True)
    people = []
    for split, (numbers, plans) in SPLITS.items():
        for plan in plans:
            for g in GROUPS:
                for k in numbers:
                    patient = f"{g}#{k:03d}"
                    if a.only and patient != a.only:
                        continue
                    d = design(a.seed, patient, plan, a.hours)
                    d['split'] = split
                    d['file'] = d['name'].replace('#', '') + '.csv'
                    d['body_weight'] = float(T1DPatient.withName(patient)._params['BW'])
                    people.append(d)
                    if a.split not in ('all', split):
                        continue   # listed (the manifest is the same whichever split is written), not simulated
                    df = simulate(d)
                    df.to_csv(os.path.join(out, d['file']), index=False, float_format='%.6f')
                    bg = df['BG'].to_numpy()
                    print(f"{d['name']} {split}: BG {bg.min():.0f}-{bg.max():.0f} mg/dL, eaten {df['CHO'].sum():.0f} g of "
                          f"{df['CHO_announced'].sum():.0f} announced, Vmx x{min(df['Vmx_factor']):.2f}-{max(df['Vmx_factor']):.2f}", flush=True)
    manifest = {'generator': 'Scripts/glucose/departing_people.py', 'seed': a.seed, 'hours': a.hours,
                'split': {s: {'patients': f"#{min(n):03d}-#{max(n):03d} of each group", 'plans': p} for s, (n, p) in SPLITS.items()},
                'plans': {k: [{'hour': h, 'grams': g} for h, g in v] for k, v in PLANS.items()},
                'sensors': ['white'] + SENSORS, 'people': people}
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    print(f"{len(people)} people in {out}")


if __name__ == '__main__':
    main()
