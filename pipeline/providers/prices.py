"""The provider price table: what a call costs in credits, from configuration."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import BadInput
from pipeline.usage import Unit

__all__ = ["PRICES_ENV", "Price", "PriceTable", "Unit", "default_prices"]

PRICES_ENV = "REELFORGE_PROVIDER_PRICES"


class Price(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    unit: Unit
    credits: Decimal = Field(ge=0)


class PriceTable(BaseModel):
    """provider → model (or ``"*"``) → price."""

    model_config = ConfigDict(frozen=True)

    providers: dict[str, dict[str, Price]]

    def price(self, provider: str, model: str) -> Price:
        """The price of ``model`` at ``provider``; the provider's ``"*"`` row if the model has none.

        Raises BadInput naming the provider when the table has no row for it: a call whose cost
        cannot be recorded is not made.
        """
        rows = self.providers.get(provider)
        if rows is None:
            raise BadInput(PRICES_ENV, f"no prices configured for provider {provider!r}")
        found = rows.get(model) or rows.get("*")
        if found is None:
            raise BadInput(PRICES_ENV, f"no price configured for {provider} model {model!r}")
        return found

    @classmethod
    def load(cls, path: Path) -> PriceTable:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise BadInput(PRICES_ENV, f"cannot read price table {path}: {exc}") from None
        return cls.parse(data, where=str(path))

    @classmethod
    def parse(cls, data: object, *, where: str) -> PriceTable:
        try:
            return cls.model_validate({"providers": data})
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"][1:])
            raise BadInput(PRICES_ENV, f"{where}: {loc}: {err['msg']}") from None


@cache
def _bundled() -> PriceTable:
    text = resources.files("pipeline.providers").joinpath("data/prices.yaml").read_text("utf-8")
    return PriceTable.parse(yaml.safe_load(text), where="bundled prices.yaml")


def default_prices(path: Path | None = None) -> PriceTable:
    """The table in ``path`` (``REELFORGE_PROVIDER_PRICES``), else the bundled one."""
    return PriceTable.load(path) if path is not None else _bundled()
