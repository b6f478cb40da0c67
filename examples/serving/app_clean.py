"""churn-scorer, done right: the counterpart of `app.py`.

Models are loaded once (module level / lifespan) from formats that cannot
run code, every outbound call has a timeout, inference runs in a worker
thread, and each prediction is recorded for drift monitoring.
"""

from contextlib import asynccontextmanager

import httpx
import numpy as np
import onnxruntime as ort
from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

FEATURE_STORE = "https://features.internal/v1"

CHURN_SCORE = Histogram("churn_score", "Predicted churn probability")
PREDICTIONS = Counter("churn_predictions_total", "Predictions served", ["risk"])

# Loaded once per process, from ONNX (no pickle, no remote code).
session = ort.InferenceSession("models/churn.onnx", providers=["CPUExecutionProvider"])
clients: dict[str, httpx.AsyncClient] = {}


@asynccontextmanager
async def lifespan(app: FastAPI):
    clients["features"] = httpx.AsyncClient(base_url=FEATURE_STORE, timeout=httpx.Timeout(5.0))
    yield
    await clients["features"].aclose()


app = FastAPI(title="churn-scorer", lifespan=lifespan)


class Customer(BaseModel):
    customer_id: str
    tenure_months: int = Field(ge=0)
    monthly_charges: float = Field(ge=0)


def score(row: list[float]) -> float:
    (proba,) = session.run(None, {"input": np.asarray([row], dtype=np.float32)})
    return float(proba[0][1])


@app.post("/predict")
async def predict(customer: Customer) -> dict:
    resp = await clients["features"].get(f"/customers/{customer.customer_id}")
    resp.raise_for_status()
    extra = resp.json()
    row = [customer.tenure_months, customer.monthly_charges, extra["support_calls"]]
    churn = await run_in_threadpool(score, row)
    CHURN_SCORE.observe(churn)
    PREDICTIONS.labels(risk="high" if churn > 0.5 else "low").inc()
    return {"customer_id": customer.customer_id, "churn": churn}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}
