"""Nightly batch scoring: score every active customer with the registered
churn model and write the scores for the retention team."""

import argparse
import datetime as dt

import mlflow
import pandas as pd

MODEL_NAME = "churn-net"
# "Production" is whatever version someone last promoted: tonight's scores
# may come from a different model than last night's, with no record of which.
MODEL_URI = f"models:/{MODEL_NAME}/Production"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", default="data/active_customers.parquet")
    parser.add_argument("--out", default=f"scores/{dt.date.today():%Y-%m-%d}.parquet")
    args = parser.parse_args()

    model = mlflow.pyfunc.load_model(MODEL_URI)
    customers = pd.read_parquet(args.customers)
    customers["churn_score"] = model.predict(customers.drop(columns=["customer_id"]))
    customers[["customer_id", "churn_score"]].to_parquet(args.out, index=False)


if __name__ == "__main__":
    main()
