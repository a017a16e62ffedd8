#!/usr/bin/env bash
# Issue 26's figures in one command: the default glucose twin (the settings chosen on the tune split) and the oracle
# ceiling on every split and sensor of the departing people, plus the in-model survey, with a release build.
#
#   Scripts/glucose/departures_survey.sh [OUT_DIR]       # default OUT_DIR: ./glucose-departures-survey
#
# Needs the set written by Scripts/glucose/departing_people.py (see the README, "Forecasts when the person departs
# from the model") in ~/.cache/twinbank-glucose-departures (or $TWINBANK_DEPARTURES). Writes one JSON per run and a
# summary table (summary.tsv) into OUT_DIR; never touches the repository's files. About 15-30 minutes on 2 cores.
set -euo pipefail
out="${1:-glucose-departures-survey}"
set_dir="${TWINBANK_DEPARTURES:-$HOME/.cache/twinbank-glucose-departures}"
[ -f "$set_dir/manifest.json" ] || { echo "no departing-people set in $set_dir (write it with Scripts/glucose/departing_people.py)" >&2; exit 1; }
mkdir -p "$out"
swift build -c release --product twinbank-bench >&2
bench=.build/release/twinbank-bench
printf 'split\tsensor\testimator\tworst\tworstPerson\tmedian\twithinTarget\tRMSE\tlastReadingRMSE\tcoverage\tunreliable\tsnacksFound\tsnacksFound20g\tmealsInferredCorrect\n' > "$out/summary.tsv"
for split in test tune; do
  for sensor in white dexcom guardianrt navigator; do
    for mode in default oracle oracle-bare; do
      # oracle: the default settings given the person's parameters and eaten meals; oracle-bare: the same without
      # the robustness settings (no gut noise, no blend), the better ceiling where the model is right
      flags=(); [ "$mode" = oracle ] && flags=(--oracle); [ "$mode" = oracle-bare ] && flags=(--oracle --gut-noise 0 --blend none)
      echo "glucose-departures --split $split --sensor $sensor ${flags[*]:-}" >&2
      "$bench" glucose-departures --departures "$set_dir" --split "$split" --sensor "$sensor" "${flags[@]}" --json > "$out/$split-$sensor-$mode.json"
      python3 - "$out/$split-$sensor-$mode.json" "$split" "$sensor" "$mode" >> "$out/summary.tsv" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); s = d["summary"]; m = s.get("unannouncedMeals", {})
f = lambda x: "" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))
print("\t".join([sys.argv[2], sys.argv[3], sys.argv[4], f(s["worstRatio"]), s["worstPerson"], f(s["medianRatio"]),
                 f"{s['withinTarget']}/{s['people']}", f(s["meanForecastRMSE"]), f(s["meanLastReadingRMSE"]), f(s["meanCoverage"]),
                 f(s.get("meanUnreliableFraction")), f"{m.get('found', '')}/{m.get('eaten', '')}",
                 f"{m.get('foundAtLeast20g', '')}/{m.get('eatenAtLeast20g', '')}", f"{m.get('correct', '')}/{m.get('inferred', '')}"]))
PY
    done
  done
done
echo "in-model survey (simglucose's own people, 7:45,12:70,18:80)" >&2
"$bench" sync --glucose-survey "7:45,12:70,18:80" --cohort > "$out/in-model-survey.txt"
column -t -s $'\t' "$out/summary.tsv"
tail -1 "$out/in-model-survey.txt"
