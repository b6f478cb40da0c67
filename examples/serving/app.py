"""churn-scorer: a FastAPI prediction service as it often ships.

Every bug in here has taken a real prediction service down (or open):
an outbound call with no timeout, a model reloaded on every request,
pickle-based checkpoints, remote code from the hub, inference that blocks
the event loop, and nothing watching the predictions for drift.
`app_clean.py` is the same service done right.
"""

import requests
import torch
from fastapi import FastAPI
from pydantic import BaseModel, Field
from transformers import AutoModelForSequenceClassification, AutoTokenizer

FEATURE_STORE = "https://features.internal/v1"
INTENT_MODEL = "acme/support-intent"
INTENT_REVISION = "4f2a9c1d7e"

app = FastAPI(title="churn-scorer")

# Custom architecture on the hub: runs whatever Python the repository ships.
tokenizer = AutoTokenizer.from_pretrained(INTENT_MODEL, revision=INTENT_REVISION, trust_remote_code=True)
intent_model = AutoModelForSequenceClassification.from_pretrained(
    INTENT_MODEL, revision=INTENT_REVISION, trust_remote_code=True
)
intent_model.eval()


class Customer(BaseModel):
    customer_id: str
    tenure_months: int = Field(ge=0)
    monthly_charges: float = Field(ge=0)
    last_ticket: str


def fetch_features(customer_id: str) -> dict:
    # No timeout: one stuck feature-store node pins this worker forever.
    resp = requests.get(f"{FEATURE_STORE}/customers/{customer_id}")
    resp.raise_for_status()
    return resp.json()


def load_churn_model() -> torch.nn.Module:
    # Full pickle of the model object, re-read from disk on every call.
    model = torch.load("models/churn_net.pt", map_location="cpu")
    model.eval()
    return model


@app.post("/predict")
async def predict(customer: Customer) -> dict:
    extra = fetch_features(customer.customer_id)
    model = load_churn_model()
    x = torch.tensor([[customer.tenure_months, customer.monthly_charges, extra["support_calls"]]])
    with torch.no_grad():
        churn = torch.sigmoid(model(x)).item()
        tokens = tokenizer(customer.last_ticket, return_tensors="pt")
        # Synchronous forward pass inside `async def`: blocks the event loop.
        intent = intent_model(**tokens).logits.argmax(dim=-1).item()
    return {"customer_id": customer.customer_id, "churn": churn, "intent": intent}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}
