"""The same training script as train_churn_net.py, reproducible: every source
of randomness is seeded (NumPy through a local Generator), GPU kernels are
deterministic, the pretrained encoder is pinned to a commit, and the scaler
only sees training rows."""

import argparse
import random

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from transformers import AutoModel, AutoTokenizer

SEED = 42
TICKET_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
ENCODER_REVISION = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"
TABULAR = ["tenure_months", "monthly_charges", "support_calls", "late_payments"]


def make_reproducible(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False


class ChurnNet(nn.Module):
    def __init__(self, n_features: int, hidden: int = 64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(-1)


def embed_tickets(texts: list[str]) -> np.ndarray:
    tokenizer = AutoTokenizer.from_pretrained(TICKET_ENCODER, revision=ENCODER_REVISION)
    encoder = AutoModel.from_pretrained(TICKET_ENCODER, revision=ENCODER_REVISION).eval()
    with torch.no_grad():
        batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        return encoder(**batch).last_hidden_state.mean(dim=1).numpy()


def load(path: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    df = pd.read_csv(path, dtype={"customer_id": str})
    df = df.iloc[rng.permutation(len(df))]
    tickets = embed_tickets(df["last_ticket"].fillna("").tolist())
    X = np.hstack([df[TABULAR].to_numpy(dtype=np.float32), tickets])
    return X, df["churned"].to_numpy(dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/churn.csv")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", default="models/churn_net.pt")
    args = parser.parse_args()

    make_reproducible(SEED)
    X, y = load(args.data, np.random.default_rng(SEED))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=SEED)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    loader_rng = torch.Generator().manual_seed(SEED)
    train_set = TensorDataset(torch.from_numpy(X_train).float(), torch.from_numpy(y_train))
    train_loader = DataLoader(train_set, batch_size=256, shuffle=True, num_workers=2, generator=loader_rng)

    model = ChurnNet(X_train.shape[1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(args.epochs):
        model.train()
        for features, labels in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(features), labels)
            loss.backward()
            optimizer.step()

    model.eval()
    with torch.no_grad():
        scores = torch.sigmoid(model(torch.from_numpy(X_test).float())).numpy()
    print(f"test ROC AUC: {roc_auc_score(y_test, scores):.3f}")
    torch.save(model.state_dict(), args.out)


if __name__ == "__main__":
    main()
