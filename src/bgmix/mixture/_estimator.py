"""A small estimator base with scikit-learn's contract, without scikit-learn.

* ``__init__`` stores its keyword arguments untouched; :meth:`get_params` reads them
  back by the constructor's signature, :meth:`set_params` writes them (nested
  ``a__b`` keys included), so ``sklearn.base.clone`` and grid searches work.
* ``__repr__`` shows the parameters that differ from their defaults.
* ``__sklearn_tags__`` describes the estimator to scikit-learn's tooling. It never
  imports scikit-learn: when scikit-learn is already loaded (it is the one asking)
  the tags are built from its own classes, otherwise a plain mirror is returned.
* :meth:`_check_is_fitted` raises :class:`bgmix.exceptions.NotFittedError`; when
  scikit-learn is loaded, the error raised is also an instance of
  ``sklearn.exceptions.NotFittedError`` so that scikit-learn code catching that
  class (meta-estimators, its common checks) recognises it.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgmix.exceptions import NotFittedError, ParameterError

__all__ = ["BaseEstimator"]


@dataclass
class _InputTags:
    one_d_array: bool = False
    two_d_array: bool = True
    three_d_array: bool = False
    sparse: bool = False
    categorical: bool = False
    string: bool = False
    dict: bool = False
    positive_only: bool = False
    allow_nan: bool = False
    pairwise: bool = False


@dataclass
class _TargetTags:
    required: bool = False
    one_d_labels: bool = False
    two_d_labels: bool = False
    positive_only: bool = False
    multi_output: bool = False
    single_output: bool = True


@dataclass
class _TransformerTags:
    preserves_dtype: list[str] = field(default_factory=lambda: ["float64"])


@dataclass
class _Tags:
    """Mirror of ``sklearn.utils.Tags`` returned when scikit-learn is not loaded."""

    estimator_type: str | None
    target_tags: _TargetTags
    transformer_tags: _TransformerTags | None = None
    classifier_tags: None = None
    regressor_tags: None = None
    array_api_support: bool = False
    no_validation: bool = False
    non_deterministic: bool = False
    requires_fit: bool = True
    _skip_test: bool = False
    input_tags: _InputTags = field(default_factory=_InputTags)


_INTEROP_NOT_FITTED: dict[type, type] = {}


def _not_fitted_error(message: str) -> NotFittedError:
    sk_exceptions = sys.modules.get("sklearn.exceptions")
    sk_cls = getattr(sk_exceptions, "NotFittedError", None)
    if not isinstance(sk_cls, type) or issubclass(NotFittedError, sk_cls):
        return NotFittedError(message)
    cls = _INTEROP_NOT_FITTED.get(sk_cls)
    if cls is None:
        cls = type(
            "NotFittedError",
            (NotFittedError, sk_cls),
            {"__module__": NotFittedError.__module__, "__doc__": NotFittedError.__doc__},
        )
        _INTEROP_NOT_FITTED[sk_cls] = cls
    return cls(message)


class BaseEstimator:
    """Parameter handling, repr, tags and the fitted-state guard of bgmix estimators.

    Subclasses list every constructor argument as a keyword with a default, store it
    unchanged in ``__init__`` (``self._store_params(locals())``) and validate it in
    ``fit``.
    """

    #: scikit-learn's estimator type ("clusterer", "density_estimator", ...).
    _estimator_type: str | None = None
    #: Fitted attribute whose presence means "fitted".
    _fitted_attr: str = ""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        for p in params:
            if p.kind is p.VAR_POSITIONAL:  # pragma: no cover - a bug in a subclass
                raise TypeError(f"{cls.__name__}.__init__ must not take *args")
        return sorted(p.name for p in params if p.name != "self" and p.kind is not p.VAR_KEYWORD)

    def _store_params(self, values: Mapping[str, Any]) -> None:
        """The whole body of a subclass ``__init__``: ``self._store_params(locals())``
        stores every constructor argument unchanged under its name (scikit-learn's
        rule: no validation or conversion before ``fit``). A further subclass whose own
        ``__init__`` calls ``super().__init__`` stores its extra arguments itself."""
        for name in self._get_param_names():
            if name in values:
                setattr(self, name, values[name])

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator.

        Parameters
        ----------
        deep : bool, default True
            Also return the parameters of parameters that are estimators, as
            ``name__param``.

        Returns
        -------
        dict
            Parameter name -> value, exactly as given to the constructor or
            :meth:`set_params`.
        """
        out: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for key, sub in value.get_params().items():
                    out[f"{name}__{key}"] = sub
            out[name] = value
        return out

    def set_params(self, **params: Any) -> BaseEstimator:
        """Set parameters (``name=value``, or ``name__sub=value`` for nested ones).

        Values are stored as given; they are validated by the next ``fit``.

        Returns
        -------
        self

        Raises
        ------
        ParameterError
            A name that is not a parameter of this estimator.
        """
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in valid:
                raise ParameterError(
                    f"Invalid parameter {name!r} for estimator {self!r}. Valid parameters "
                    f"are: {sorted(self._get_param_names())!r}."
                )
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        parts = []
        for name, p in sig.parameters.items():
            if name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            value = getattr(self, name, p.default)
            if not _same(value, p.default):
                parts.append(f"{name}={_short_repr(value)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __sklearn_tags__(self) -> Any:
        """Tags for scikit-learn's tooling (``sklearn.utils.get_tags``)."""
        values = self._tag_values()
        utils = sys.modules.get("sklearn.utils")
        names = ("Tags", "InputTags", "TargetTags", "TransformerTags")
        if utils is not None and all(hasattr(utils, n) for n in names):
            tags_cls, input_cls, target_cls, transformer_cls = (getattr(utils, n) for n in names)
        else:
            tags_cls, input_cls, target_cls, transformer_cls = (
                _Tags,
                _InputTags,
                _TargetTags,
                _TransformerTags,
            )
        preserves = values.pop("preserves_dtype", None)
        return tags_cls(
            estimator_type=self._estimator_type,
            target_tags=target_cls(required=False),
            transformer_tags=None
            if preserves is None
            else transformer_cls(preserves_dtype=preserves),
            input_tags=input_cls(allow_nan=False, sparse=False),
            requires_fit=True,
            non_deterministic=values.pop("non_deterministic", False),
        )

    def _tag_values(self) -> dict[str, Any]:
        return {}

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, self._fitted_attr)

    def _check_is_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise _not_fitted_error(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _validate_new(self, X: Any) -> np.ndarray:
        """``X`` checked for a fitted estimator: an array with ``n_features_in_`` columns."""
        from bgmix.mixture._checks import check_array, check_n_features

        self._check_is_fitted()
        name = type(self).__name__
        X = check_array(X, estimator=name)
        check_n_features(X, self.n_features_in_, estimator=name)
        return X


def _same(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if isinstance(value, np.ndarray) or isinstance(default, np.ndarray):
        return False
    try:
        return bool(type(value) is type(default) and value == default)
    except (TypeError, ValueError):
        return False


def _short_repr(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return repr(value.tolist())
        return f"<array {value.shape} {value.dtype}>"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
