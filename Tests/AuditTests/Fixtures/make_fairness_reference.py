#!/usr/bin/env python3
"""Generates the fairness fixture and the values Fairlearn and Aequitas compute on it.

Run once (python3 -m venv v && v/bin/pip install fairlearn==0.15.0 aequitas==1.1.0; v/bin/python this-script);
the outputs are committed: fairness.csv (items) and fairness_reference.json (expected values).
Convention (the synthetic check's): positive = flagged as synthetic = LLR below 0; true positive class = spoof.
"""
import json, os
import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, false_positive_rate, false_negative_rate, selection_rate
from aequitas.group import Group
from aequitas.bias import Bias

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261126)
rows = []
for i in range(400):
    language = ["en", "fr", "nl"][i % 3]
    gender = ["F", "M"][(i // 3) % 2]
    speaker = f"{language}-{gender}-{(i // 6) % 7}"
    label = "spoof" if rng.random() < 0.4 else "bonafide"
    shift = {"en": 0.0, "fr": -0.6, "nl": 0.4}[language] + (0.3 if gender == "F" else 0.0)
    score = (rng.normal(1.5, 1.4) if label == "bonafide" else rng.normal(-1.5, 1.4)) + shift
    rows.append(dict(id=f"item-{i:03d}", path=f"none/{i}.wav", language=language, gender=gender, speaker=speaker,
                     label=label, score=round(float(score), 6)))
df = pd.DataFrame(rows)
df.to_csv(os.path.join(here, "fairness.csv"), index=False)

y_true = (df.label == "spoof").astype(int)
y_pred = (df.score < 0).astype(int)
metrics = {"fpr": false_positive_rate, "fnr": false_negative_rate, "flag_rate": selection_rate}
reference = {"fairlearn_version": __import__("fairlearn").__version__, "aequitas_version": __import__("aequitas").__version__, "fairlearn": {}, "aequitas": {}}
for features in (["language"], ["gender"], ["language", "gender"]):
    mf = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=df[features])
    key = "+".join(features)
    by_group = {}
    for index, row in mf.by_group.iterrows():
        values = index if isinstance(index, tuple) else (index,)
        by_group["|".join(values)] = {m: float(row[m]) for m in metrics}
    reference["fairlearn"][key] = {
        "overall": {m: float(mf.overall[m]) for m in metrics},
        "by_group": by_group,
        "difference_between_groups": {m: float(v) for m, v in mf.difference(method="between_groups").items()},
        "difference_to_overall": {m: float(v) for m, v in mf.difference(method="to_overall").items()},
        "ratio_between_groups": {m: float(v) for m, v in mf.ratio(method="between_groups").items()},
        "ratio_to_overall": {m: float(v) for m, v in mf.ratio(method="to_overall").items()},
    }

# Aequitas: group rates and disparities against fixed reference groups.
adf = pd.DataFrame({"score": y_pred, "label_value": y_true, "language": df.language, "gender": df.gender})
xtab, _ = Group().get_crosstabs(adf, attr_cols=["language", "gender"])
bdf = Bias().get_disparity_predefined_groups(xtab, original_df=adf, ref_groups_dict={"language": "en", "gender": "F"},
                                              alpha=0.05, check_significance=False)
for _, row in bdf.iterrows():
    reference["aequitas"][f"{row['attribute_name']}={row['attribute_value']}"] = {
        "fpr": float(row["fpr"]), "fnr": float(row["fnr"]), "pprev": float(row["pprev"]),
        "fpr_disparity": float(row["fpr_disparity"]), "fnr_disparity": float(row["fnr_disparity"]),
        "pprev_disparity": float(row["pprev_disparity"]),
    }
reference["aequitas_reference_groups"] = {"language": "en", "gender": "F"}
with open(os.path.join(here, "fairness_reference.json"), "w") as f:
    json.dump(reference, f, indent=1, sort_keys=True)
print("wrote fairness.csv and fairness_reference.json")
