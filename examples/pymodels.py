"""Python actors that the Java example service drives (see ModelService.java)."""

from __future__ import annotations


class LinearModel:
    """y = slope * x + intercept, counting the predictions it served."""

    def __init__(self, slope: float, intercept: float) -> None:
        self.slope = slope
        self.intercept = intercept
        self.served = 0

    def predict(self, x: float) -> float:
        self.served += 1
        return self.slope * x + self.intercept

    def calls(self) -> int:
        return self.served
