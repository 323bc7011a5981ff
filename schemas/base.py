"""The strict base every wire model inherits."""

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """Frozen, unknown fields rejected, no type coercion, no input values in error texts."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,
    )
