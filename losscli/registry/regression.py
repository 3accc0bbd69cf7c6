"""Registry entries of the regression losses (kernels in ``losscli.losses.regression``)."""

from __future__ import annotations

from losscli.registry._base import Domain, LossSpec, ParamSpec

_TASKS = ("regression",)
_INPUTS = (
    "predictions: (n,) real numbers, or (n, k) for k outputs; "
    "targets: real numbers of the same shape"
)
_FN = "losscli.losses.regression:"

SPECS: tuple[LossSpec, ...] = (
    LossSpec(
        name="mse",
        tasks=_TASKS,
        fn=_FN + "mse",
        summary="Mean squared error: the average squared residual.",
        formula="mean (ŷ − y)²",
        when_to_use=(
            "The default for regression on clean data with roughly Gaussian noise: smooth, "
            "differentiable everywhere and cheap. Squaring lets a few large errors dominate, "
            "so prefer huber or mae when the targets contain outliers."
        ),
        references=(
            "torch.nn.MSELoss",
            "sklearn.metrics.mean_squared_error",
            "Legendre 1805 / Gauss 1809, method of least squares",
        ),
        inputs=_INPUTS,
        aliases=("l2", "mean_squared_error", "squared_error"),
        oracle="torch.nn.functional.mse_loss",
    ),
    LossSpec(
        name="rmse",
        tasks=_TASKS,
        fn=_FN + "rmse",
        summary="Root mean squared error: √mse, in the units of the target.",
        formula="√(mean (ŷ − y)²)",
        when_to_use=(
            "Reports the same ranking as mse but in the target's own units, which makes it "
            "easier to read next to the data. Like mse it is sensitive to outliers."
        ),
        references=(
            "sklearn.metrics.root_mean_squared_error",
            "torch.sqrt(torch.nn.functional.mse_loss(...))",
        ),
        inputs=_INPUTS,
        aliases=("root_mean_squared_error",),
        finalize="sqrt",
        oracle="sklearn.metrics.root_mean_squared_error",
    ),
    LossSpec(
        name="mae",
        tasks=_TASKS,
        fn=_FN + "mae",
        summary="Mean absolute error: the average absolute residual (L1 loss).",
        formula="mean |ŷ − y|",
        when_to_use=(
            "Robust to outliers because every error counts linearly, and directly "
            "interpretable as the typical error in the target's units. Its gradient has a "
            "constant size and a kink at zero, so huber often trains more smoothly."
        ),
        references=(
            "torch.nn.L1Loss",
            "sklearn.metrics.mean_absolute_error",
            "Laplace 1774 / Boscovich 1757, least absolute deviations",
        ),
        inputs=_INPUTS,
        aliases=("l1", "mean_absolute_error", "absolute_error"),
        oracle="torch.nn.functional.l1_loss",
    ),
    LossSpec(
        name="huber",
        tasks=_TASKS,
        fn=_FN + "huber",
        summary="Huber loss: quadratic for small residuals, linear beyond delta.",
        formula="½e² if |e| ≤ δ, else δ(|e| − ½δ);  e = ŷ − y",
        when_to_use=(
            "The robust choice for regression with outliers or noisy targets: it behaves "
            "like mse for errors below delta and like mae above it. Set delta to the size "
            "of error you still consider normal noise."
        ),
        references=(
            "torch.nn.HuberLoss",
            "Huber 1964, Robust Estimation of a Location Parameter, Ann. Math. Statist. 35(1)",
            "optax.losses.huber_loss",
        ),
        inputs=_INPUTS,
        params=(
            ParamSpec(
                "delta",
                1.0,
                "float",
                help="residual size where the loss turns from quadratic to linear",
                low=0.0,
                low_open=True,
            ),
        ),
        aliases=("huber_loss",),
        oracle="torch.nn.functional.huber_loss",
    ),
    LossSpec(
        name="smooth_l1",
        tasks=_TASKS,
        fn=_FN + "smooth_l1",
        summary="Smooth L1: huber scaled by 1/beta, so the linear part has slope 1.",
        formula="½e²/β if |e| < β, else |e| − ½β;  β = 0 gives |e|;  huber(δ) = δ·smooth_l1(β=δ)",
        when_to_use=(
            "An outlier-robust regression loss whose tails match mae exactly, popular for "
            "bounding-box regression. Prefer it over huber when you want the loss on the "
            "mae scale; beta=0 turns it into mae."
        ),
        references=(
            "torch.nn.SmoothL1Loss",
            "Girshick 2015, Fast R-CNN, ICCV",
        ),
        inputs=_INPUTS,
        params=(
            ParamSpec(
                "beta",
                1.0,
                "float",
                help="residual size where the loss turns linear (0 gives mae)",
                low=0.0,
            ),
        ),
        aliases=("smoothl1", "smooth_l1_loss"),
        oracle="torch.nn.functional.smooth_l1_loss",
    ),
    LossSpec(
        name="log_cosh",
        tasks=_TASKS,
        fn=_FN + "log_cosh",
        summary="Log-cosh: about ½e² for small residuals and |e| − log 2 for large ones.",
        formula="log cosh(e) = |e| + softplus(−2|e|) − log 2;  e = ŷ − y",
        when_to_use=(
            "A smooth, twice-differentiable alternative to huber for regression with "
            "outliers: quadratic near zero and linear in the tails, with no parameter to "
            "tune. Its curvature fades for large errors, so it is less sensitive to scale."
        ),
        references=(
            "keras.losses.LogCosh",
            "optax.losses.log_cosh",
            "Chen, Chen & Zhang 2019, Log Hyperbolic Cosine Loss Improves Variational Auto-Encoder",
        ),
        inputs=_INPUTS,
        aliases=("logcosh",),
        oracle=(
            "no torch or scikit-learn function: torch.log(torch.cosh(e)).mean() in float64 "
            "(and |e| + log1p(exp(-2|e|)) - log 2 where cosh would overflow)"
        ),
    ),
    LossSpec(
        name="pinball",
        tasks=_TASKS,
        fn=_FN + "pinball",
        summary="Pinball (quantile) loss: asymmetric L1 whose minimiser is the q-quantile.",
        formula="max(q·d, (q − 1)·d);  d = y − ŷ;  q = 0.5 gives ½·mae",
        when_to_use=(
            "Use it to train or evaluate quantile forecasts and prediction intervals: "
            "under-prediction costs q per unit and over-prediction 1 − q. Like mae it is "
            "robust to outliers."
        ),
        references=(
            "sklearn.metrics.mean_pinball_loss",
            "Koenker & Bassett 1978, Regression Quantiles, Econometrica 46(1)",
        ),
        inputs=_INPUTS,
        params=(
            ParamSpec(
                "quantile",
                0.5,
                "float",
                help="target quantile q (scikit-learn's alpha)",
                low=0.0,
                high=1.0,
            ),
        ),
        aliases=("quantile", "quantile_loss", "pinball_loss"),
        oracle="sklearn.metrics.mean_pinball_loss",
    ),
    LossSpec(
        name="msle",
        tasks=_TASKS,
        fn=_FN + "msle",
        summary="Mean squared log error: mse on log1p of predictions and targets.",
        formula="mean (log1p ŷ − log1p y)²",
        when_to_use=(
            "For positive targets spanning orders of magnitude (counts, prices, demand), "
            "where relative errors matter more than absolute ones; it penalises "
            "under-prediction more than over-prediction. Needs values above -1."
        ),
        references=(
            "sklearn.metrics.mean_squared_log_error",
            "keras.losses.MeanSquaredLogarithmicError",
        ),
        inputs="predictions: (n,) or (n, k) real numbers > -1; targets: the same shape, > -1",
        domains=(
            Domain("pred", low=-1.0, low_open=True, why="log1p is undefined at or below -1"),
            Domain("target", low=-1.0, low_open=True, why="log1p is undefined at or below -1"),
        ),
        aliases=("mean_squared_log_error", "mean_squared_logarithmic_error"),
        oracle="sklearn.metrics.mean_squared_log_error",
    ),
    LossSpec(
        name="mape",
        tasks=_TASKS,
        fn=_FN + "mape",
        summary="Mean absolute percentage error, as a fraction (0.1 = 10 %).",
        formula="mean |ŷ − y| / max(|y|, eps);  eps = float64 machine epsilon",
        when_to_use=(
            "A scale-free error that business users read as a percentage, handy for "
            "comparing series of different sizes. It explodes for targets near zero and "
            "favours under-prediction, so avoid it when targets can be zero."
        ),
        references=(
            "sklearn.metrics.mean_absolute_percentage_error",
            "keras.losses.MeanAbsolutePercentageError (×100, eps 1e-7)",
        ),
        inputs=_INPUTS,
        aliases=("mean_absolute_percentage_error",),
        oracle="sklearn.metrics.mean_absolute_percentage_error",
    ),
    LossSpec(
        name="poisson_nll",
        tasks=_TASKS,
        fn=_FN + "poisson_nll",
        summary="Poisson negative log-likelihood of a predicted rate (constant term dropped).",
        formula="ŷ − y·log(ŷ + eps)   (PyTorch log_input=False, full=False)",
        when_to_use=(
            "For count targets (events, clicks, arrivals) where the model predicts a "
            "non-negative rate and the noise grows with the mean. Values can be negative "
            "because log(y!) is left out; compare models, not absolute values."
        ),
        references=(
            "torch.nn.PoissonNLLLoss(log_input=False)",
            "McCullagh & Nelder 1989, Generalized Linear Models",
        ),
        inputs="predictions: (n,) or (n, k) rates ≥ 0; targets: counts ≥ 0, the same shape",
        params=(
            ParamSpec(
                "eps",
                1e-8,
                "float",
                help="added to the rate inside the log (avoids log 0)",
                low=0.0,
                low_open=True,
            ),
        ),
        domains=(
            Domain("pred", low=0.0, why="a Poisson rate cannot be negative"),
            Domain("target", low=0.0, why="counts cannot be negative"),
        ),
        aliases=("poisson", "poisson_loss"),
        oracle="torch.nn.functional.poisson_nll_loss(log_input=False, full=False)",
    ),
)
