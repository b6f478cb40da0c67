"""Serving-app model and the ML5xx/ML6xx/ML701 rules: behaviour that the
fixture files cannot express (config options, severities, fixes, the model's
handler and call-graph answers)."""

from __future__ import annotations

import ast
import textwrap

from helpers import lint, lint_notebook_text, notebook_from_percent

from mllint.analysis.serving_model import ServingModel
from mllint.core.severity import Severity


def _model(src: str) -> ServingModel:
    return ServingModel(ast.parse(textwrap.dedent(src)))


def _codes(src: str, **config) -> list[str]:
    return [f.code for f in lint(textwrap.dedent(src), **config)]


# --- serving model ---------------------------------------------------------------

def test_handlers_of_each_framework_are_recognised() -> None:
    sm = _model(
        """
        from fastapi import FastAPI, APIRouter
        from flask import Flask
        from aiohttp import web
        from ray import serve
        import litserve as ls

        api = FastAPI()
        router = APIRouter()
        flask_app = Flask(__name__)
        routes = web.RouteTableDef()

        @api.post("/a")
        def a(): ...

        @router.get("/b")
        async def b(): ...

        @flask_app.route("/c", methods=["POST"])
        def c(): ...

        @routes.post("/d")
        async def d(request): ...

        def e(): ...
        api.add_api_route("/e", e, methods=["PUT"])

        @serve.deployment
        class F:
            def __init__(self): ...
            async def __call__(self, request): ...

        class G(ls.LitAPI):
            def setup(self, device): ...
            def predict(self, x): ...

        def helper(): ...
        """
    )
    got = {h.func.display: h.route for h in sm.handlers}
    assert got == {
        "a": "POST /a",
        "b": "GET /b",
        "c": "POST /c",
        "d": "POST /d",
        "e": "PUT /e",
        "F.__call__": None,
        "G.predict": None,
    }


def test_startup_hooks_are_not_per_request_and_helpers_are() -> None:
    sm = _model(
        """
        from fastapi import FastAPI

        app = FastAPI()

        def load(): ...
        def features(): return load_more()
        def load_more(): ...

        @app.on_event("startup")
        def warm():
            load()

        @app.post("/p")
        def p():
            return features()
        """
    )
    names = {f.display for f in sm.functions.values() if sm.per_request(f.node)}
    assert names == {"p", "features", "load_more"}


def test_unresolved_app_object_needs_a_path_to_count_as_route() -> None:
    sm = _model(
        """
        from .main import app, cache

        @app.post("/predict")
        def predict(): ...

        @cache.get(maxsize=3)
        def not_a_route(): ...
        """
    )
    assert [h.func.name for h in sm.handlers] == ["predict"]


# --- ML501 -------------------------------------------------------------------------

def test_ml501_fix_uses_configured_timeout() -> None:
    (f,) = lint("import requests\nrequests.get('https://x')\n", timeout=7.5)
    assert f.code == "ML501" and f.fix is not None
    assert f.fix.applicability == "unsafe"
    assert f.fix.edits[0].text == ", timeout=7.5"


def test_ml501_replaces_explicit_none() -> None:
    (f,) = lint("import httpx\nc = httpx.Client(timeout=None)\n")
    assert f.fix is not None and f.fix.edits[0].text == "30"


NOTEBOOK_CALLS = """
# %%
import redis
import requests
# %%
resp = requests.get("https://data.example/train.csv")
# %%
def load_image(url):
    return requests.get(url).content

img = load_image("https://data.example/cat.png")
# %%
def fetch(url):
    return requests.get(url).json()

rows = [fetch(u) for u in urls]
# %%
for u in urls:
    requests.get(u)
# %%
def outer(u):
    return inner(u)

def inner(u):
    return requests.get(u)

for u in urls:
    outer(u)
# %%
cache = redis.Redis(host="cache")
scores = df["url"].apply(lambda u: requests.get(u).status_code)
"""


def test_ml501_notebook_one_off_calls_are_low_repeated_calls_high() -> None:
    findings = lint_notebook_text(notebook_from_percent(NOTEBOOK_CALLS.strip()), select=["ML501"])
    sev = {(f.cell, f.cell_line): f.severity for f in findings}
    assert sev == {
        (2, 1): Severity.LOW,  # a download at the top of a cell
        (3, 2): Severity.LOW,  # a helper only top-level code calls
        (4, 2): Severity.HIGH,  # a helper called in a comprehension
        (5, 2): Severity.HIGH,  # a loop over rows
        (6, 5): Severity.HIGH,  # reached from a loop through another helper
        (7, 1): Severity.LOW,  # a client built once
        (7, 2): Severity.HIGH,  # per row, in a lambda
    }


def test_ml501_scripts_and_notebook_handlers_stay_high() -> None:
    script = lint("import requests\nresp = requests.get('https://x')\n")
    assert [f.severity for f in script] == [Severity.HIGH]
    nb = notebook_from_percent(
        "# %%\nimport requests\nfrom fastapi import FastAPI\napp = FastAPI()\n"
        "# %%\n@app.get('/p')\ndef p():\n    return requests.get('https://x').json()\n"
    )
    assert [f.severity for f in lint_notebook_text(nb, select=["ML501"])] == [Severity.HIGH]


def test_ml501_store_client_fix_names_the_option() -> None:
    (f,) = lint("import redis\nr = redis.Redis(host='h')\n", timeout=2)
    assert f.fix is not None and f.fix.edits[0].text == ", socket_timeout=2"
    (g,) = lint("import pymongo\nc = pymongo.MongoClient('mongodb://h')\n", timeout=2.5)
    assert g.fix is not None and g.fix.edits[0].text == ", socketTimeoutMS=2500"
    (h,) = lint("import psycopg2\nc = psycopg2.connect(host='h', dbname='d')\n", timeout=0.5)
    assert h.fix is not None and h.fix.edits[0].text == ", connect_timeout=2"  # libpq's minimum
    (k,) = lint("import redis\nr = redis.Redis(socket_timeout=None)\n", timeout=2)
    assert k.fix is not None and k.fix.edits[0].text == "2"


def test_ml501_positional_timeouts_and_version_dependent_signatures() -> None:
    assert _codes("import http.client\nc = http.client.HTTPConnection('h', 80, 5)\n") == []
    assert _codes("import http.client\nc = http.client.HTTPConnection('h', 80, None)\n") == ["ML501"]
    # HTTPSConnection's third positional was key_file before Python 3.12: not judged
    assert _codes("import http.client\nc = http.client.HTTPSConnection('h', 443, k)\n") == []
    assert _codes("import smtplib\ns = smtplib.SMTP('m', 25, 'me', 10)\n") == []
    assert _codes("import ftplib\nf = ftplib.FTP('f', 'u', 'p', '', 10)\n") == []
    assert _codes("import urllib3\np = urllib3.HTTPConnectionPool('h', 80, 3.0)\n") == []


# --- ML504 -------------------------------------------------------------------------

SERVICE = """
import joblib
from fastapi import FastAPI
from myproj.monitoring import log_prediction

app = FastAPI()
model = joblib.load("m.joblib")

@app.post("/predict")
def predict(row: list[float]):
    y = model.predict([row])
    log_prediction(row, y)
    return {"y": int(y[0])}
"""


def test_ml504_configured_monitoring_hook_silences() -> None:
    assert "ML504" in _codes(SERVICE)
    assert "ML504" not in _codes(SERVICE, monitoring_hooks=["myproj.monitoring.log_prediction"])
    assert "ML504" not in _codes(SERVICE, monitoring_hooks=["log_prediction"])
    assert "ML504" not in _codes(SERVICE, monitoring_hooks=["myproj.monitoring"])
    assert "ML504" in _codes(SERVICE, monitoring_hooks=["other.hook"])


# --- ML601 -------------------------------------------------------------------------

def test_ml601_request_sourced_is_critical_and_file_load_is_high() -> None:
    findings = lint(
        textwrap.dedent(
            """
            import pickle
            import joblib
            from fastapi import FastAPI

            app = FastAPI()
            artifact = joblib.load("model.joblib")

            @app.post("/restore")
            def restore(blob: bytes):
                state = pickle.loads(blob)
                return {"n": len(state)}
            """
        )
    )
    sev = {f.line: f.severity for f in findings if f.code == "ML601"}
    assert sev == {7: Severity.HIGH, 11: Severity.CRITICAL}


def test_ml601_config_severity_override_still_wins() -> None:
    src = "import pickle\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.post('/r')\ndef r(b: bytes):\n    return pickle.loads(b)\n"
    (f,) = [f for f in lint(src, severity={"ML601": "low"}) if f.code == "ML601"]
    assert f.severity == Severity.LOW


# --- ML602 / ML604 fixes -------------------------------------------------------------

def test_ml602_fix_adds_weights_only() -> None:
    (f,) = lint("import torch\nsd = torch.load('a.pt')\n")
    assert f.fix is not None and f.fix.edits[0].text == ", weights_only=True"
    (g,) = lint("import torch\nsd = torch.load('a.pt', weights_only=False)\n")
    assert g.fix is not None and g.fix.edits[0].text == "True"


def test_ml604_fix_rewrites_to_safe_load() -> None:
    (f,) = lint("import yaml\ncfg = yaml.load(open('c.yaml'), Loader=yaml.Loader)\n")
    assert f.fix is not None and f.fix.applicability == "safe"
    assert f.fix.edits[0].text == "yaml.safe_load(open('c.yaml'))"


# --- ML701 options -------------------------------------------------------------------

FIT = """
import pandas as pd
from sklearn.linear_model import LogisticRegression
df = pd.read_csv("d.csv")
X = df[["income", "zip_code", "sex"]]
LogisticRegression().fit(X, df["y"])
"""


def test_ml701_protected_attributes_option() -> None:
    assert "ML701" in _codes(FIT)
    assert "ML701" not in _codes(FIT, protected_attributes=["race"])
    assert "ML701" in _codes(FIT, protected_attributes=["zip_code"])


def test_ml701_column_names_are_matched_in_any_spelling() -> None:
    """The rule skips modules whose text names no protected attribute; the
    check normalises case, spaces and hyphens as the column match does."""
    src = FIT.replace('"sex"', '"Sex-At Birth"')
    assert "ML701" in _codes(src)
    assert "ML701" in _codes(src, protected_attributes=["SEX AT-BIRTH"])
    assert "ML701" not in _codes(FIT.replace('"sex"', '"sexton"'))  # not a word match: still silent


def test_ml501_network_import_precondition_near_misses() -> None:
    aliased = "from requests import Session as S\ns = S()\ns.get('http://x')\n"
    assert _codes(aliased) == ["ML501"]
    stub = "import service_pb2_grpc as pb\nstub = pb.ModelStub(channel)\nstub.Predict(req)\n"
    assert _codes(stub) == ["ML501"]
    in_function = "def fetch(u):\n    import urllib.request\n    return urllib.request.urlopen(u)\n"
    assert _codes(in_function) == ["ML501"]
    no_network = "class Client:\n    def get(self, u): ...\nClient().get('http://x')\n"
    assert _codes(no_network) == []
    # the store clients are looked at too: a module importing only them is checked
    for src in (
        "import redis\nr = redis.Redis()\n",
        "from pymongo import MongoClient as MC\nc = MC('mongodb://h')\n",
        "import psycopg\nc = psycopg.connect('dbname=x')\n",
        "from smtplib import SMTP\ns = SMTP('mail')\n",
        "def f():\n    import ftplib\n    return ftplib.FTP('h')\n",
    ):
        assert _codes(src) == ["ML501"], src
    # ... and a module that names them without importing them is not
    assert _codes("def connect(**kw): ...\nconn = connect(host='h')\nclass Redis: ...\nr = Redis()\n") == []
    assert _codes("import http.server\nsrv = http.server.HTTPServer(('', 8000), H)\n") == []


def test_ml701_fairness_metrics_option() -> None:
    src = FIT + "from myproj.fair import group_gap\ngroup_gap(df)\n"
    assert "ML701" in _codes(src)
    assert "ML701" not in _codes(src, fairness_metrics=["myproj.fair.group_gap"])


# --- robustness ----------------------------------------------------------------------

def test_odd_code_never_raises() -> None:
    src = """
    from fastapi import FastAPI
    app = FastAPI()
    @app.post(path=None)
    async def f(*a, **k):
        x = lambda: (yield)
        while True:
            try:
                (lambda q: q)(1).predict()
            except:
                pass
    @app.get
    def g(): ...
    class C(dict.__class__): pass
    """
    found = _codes(src)
    assert "ML001" not in found and "ML000" not in found


def test_registered_and_class_based_handlers() -> None:
    sm = _model(
        """
        import bentoml
        from aiohttp import web
        from starlette.applications import Starlette
        from starlette.routing import Route
        from django.http import JsonResponse
        from django.views import View
        from rest_framework.decorators import api_view
        from flask import Flask

        svc = bentoml.Service("clf", runners=[])

        @svc.api(input=None, output=None)
        def classify(x): ...

        async def home(request): ...
        async def warm(): ...
        app = Starlette(routes=[Route("/", home)], on_startup=[warm])

        async def a_handler(request): ...
        async def b_handler(request): ...
        aapp = web.Application()
        aapp.router.add_post("/a", a_handler)
        aapp.add_routes([web.post("/b", b_handler)])

        def django_view(request):
            return JsonResponse({})

        def get_client_ip(req): ...

        class PredictView(View):
            def post(self, request): ...
            def helper(self): ...

        @api_view(["POST"])
        def drf_fn(request): ...

        fl = Flask(__name__)
        def fl_view(): ...
        fl.add_url_rule("/f", view_func=fl_view, methods=["POST"])
        """
    )
    got = {h.func.display: (h.framework, h.route) for h in sm.handlers}
    assert got == {
        "classify": ("BentoML", None),
        "home": ("Starlette", "/"),
        "a_handler": ("aiohttp", "POST /a"),
        "b_handler": ("aiohttp", "POST /b"),
        "django_view": ("Django", None),
        "PredictView.post": ("Django", None),
        "drf_fn": ("Django", None),
        "fl_view": ("Flask", "POST /f"),
    }
    assert [f.name for f in sm.functions.values() if id(f.node) in sm.startup] == ["warm"]


def test_reach_first_handles_cycles() -> None:
    sm = _model(
        """
        from fastapi import FastAPI
        app = FastAPI()
        def a(): b()
        def b(): a(); c()
        def c(): target()
        def d(): a()
        def lonely(): ...
        """
    )
    hit = sm.reach_first(lambda f: f.name if any(getattr(s.node.func, "id", "") == "target" for s in f.calls) else None)
    by_name = {f.name: hit[id(f)] for f in sm.functions.values()}
    assert by_name == {"a": "c", "b": "c", "c": "c", "d": "c", "lonely": None}
