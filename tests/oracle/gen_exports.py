"""Generate tests/fixtures/exports.json: real scikit-learn model outputs and their
scikit-learn values (float64), for tests/test_exports.py.

The fast suite needs neither scikit-learn nor torch: it reads the committed outputs,
saves them the way users do (``pd.DataFrame(p).to_csv``, ``np.save``, ``to_parquet``)
and checks losscli's values against the committed ones. tests/test_exports.py's
``oracle`` tests retrain the models live and check the same values.

Run: ``python tests/oracle/gen_exports.py`` (needs the ``oracle`` extra).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "exports.json"


def models() -> dict[str, Any]:
    """The model outputs (deterministic: fixed splits, deterministic solvers)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_linnerud
    from sklearn.linear_model import Lasso, LogisticRegression, Ridge
    from sklearn.model_selection import train_test_split

    out: dict[str, Any] = {}
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte, _itr, ite = train_test_split(
        X, y, np.arange(y.size), test_size=60, random_state=0
    )
    clf = LogisticRegression(max_iter=5000).fit(Xtr, ytr)
    out["bc"] = {
        "proba": clf.predict_proba(Xte).tolist(),
        "decision": clf.decision_function(Xte).tolist(),
        "y": yte.tolist(),
        "index": ite.tolist(),
    }
    X, y = load_iris(return_X_y=True)
    out["iris"] = {"logits": LogisticRegression(max_iter=1000).fit(X, y).decision_function(X)}
    out["iris"]["logits"] = out["iris"]["logits"].tolist()
    out["iris"]["y"] = y.tolist()
    X, Y = load_linnerud(return_X_y=True)
    out["linnerud"] = {
        "pred": Ridge().fit(X, Y).predict(X).tolist(),
        "y": Y.tolist(),
        "names": ["Weight", "Waist", "Pulse"],
    }
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=80, random_state=0)
    out["diabetes"] = {
        "ridge": Ridge().fit(Xtr, ytr).predict(Xte).tolist(),
        "lasso": Lasso(alpha=0.1).fit(Xtr, ytr).predict(Xte).tolist(),
        "y": yte.tolist(),
    }
    return out


def expected(m: dict[str, Any]) -> dict[str, float | list[float]]:
    """scikit-learn's values of the outputs (the references the tests check)."""
    from scipy.special import expit, softmax
    from sklearn.metrics import brier_score_loss, log_loss, mean_squared_error
    from sklearn.metrics import root_mean_squared_error as rmse

    bc, iris, lin, dia = m["bc"], m["iris"], m["linnerud"], m["diabetes"]
    p = np.asarray(bc["proba"])
    y = np.asarray(bc["y"])
    z = np.asarray(iris["logits"])
    yi = np.asarray(iris["y"])
    keep = np.arange(yi.size) % 7 != 0  # rows labelled -100 in the tests
    P, Y = np.asarray(lin["pred"]), np.asarray(lin["y"])
    return {
        "bc_log_loss": float(log_loss(y, p)),
        "bc_brier": float(brier_score_loss(y, p[:, 1])),
        "bc_log_loss_decision": float(log_loss(y, expit(np.asarray(bc["decision"])))),
        "iris_log_loss": float(log_loss(yi, softmax(z, axis=1))),
        "iris_log_loss_kept": float(log_loss(yi[keep], softmax(z[keep], axis=1), labels=[0, 1, 2])),
        "linnerud_mse": float(mean_squared_error(Y, P)),
        "linnerud_rmse": float(rmse(Y, P)),
        "linnerud_mse_raw": mean_squared_error(Y, P, multioutput="raw_values").tolist(),
        "linnerud_rmse_raw": rmse(Y, P, multioutput="raw_values").tolist(),
        "diabetes_mse_ridge": float(mean_squared_error(dia["y"], dia["ridge"])),
        "diabetes_mse_lasso": float(mean_squared_error(dia["y"], dia["lasso"])),
    }


def main() -> None:
    m = models()
    doc = {
        "generator": "tests/oracle/gen_exports.py",
        "models": m,
        "expected": expected(m),
    }
    OUT.write_text(json.dumps(doc) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
