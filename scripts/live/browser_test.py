"""The dashboard in a real browser: chromium through selenium, against a live `orbit serve`.

Usage: browser_test.py BASE_URL  (ORBIT_READ_TOKEN, ORBIT_LIVE_OUT in the environment)

The server needs a read token: the page must ask for it, and every later view must show what the
JSON API answers for the same request (who to follow per logic, leaderboards, the snapshot's
counts). Every chart and table must have drawn, the page must fit a phone-width window without
scrolling sideways, and the browser console must stay free of errors. A screenshot of each view at
laptop and at phone width is saved in $ORBIT_LIVE_OUT/screenshots.
"""
import os
import sys
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Checks, get_json  # noqa: E402

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

base = sys.argv[1]
token = os.environ["ORBIT_READ_TOKEN"]
shots = Path(os.environ.get("ORBIT_LIVE_OUT", ".build/live")) / "screenshots"
shots.mkdir(parents=True, exist_ok=True)
SIZES = {"laptop": (1366, 900), "phone": (390, 844)}
check = Checks("browser")


def api(path):
    return get_json(base, path, token)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,900",
            "--disable-extensions", "--no-first-run"]:
    options.add_argument(arg)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 30)


def ready(view):
    wait.until(lambda d: d.execute_script("return document.body.dataset.ready === 'true' && document.body.dataset.view === arguments[0]", view))


def rendered(what):
    """Every chart and table of the view, with its state: charts 'true' (drawn) or 'empty' (no data, said on the page)."""
    return driver.execute_script("""
        return [...document.querySelectorAll('[data-chart],[data-table]')].map(e => ({
          name: e.dataset.chart || e.dataset.table, kind: e.dataset.chart ? 'chart' : 'table',
          rendered: e.dataset.rendered, rows: Number(e.dataset.rows || 0),
          marks: e.dataset.chart ? e.querySelectorAll('svg rect, svg polyline').length : e.querySelectorAll('tbody tr, dd').length }));
    """)


def column(table, index):
    return driver.execute_script(
        "return [...document.querySelectorAll(`table[data-table='${arguments[0]}'] tbody tr:not(.empty)`)].map(r => r.cells[arguments[1]].textContent)",
        table, index)


def screenshot(view):
    for size, (w, h) in SIZES.items():
        driver.set_window_size(w, h)
        driver.execute_script("window.dispatchEvent(new Event('resize'))")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 1, f"{view} at {size} width ({w} px) does not scroll sideways (overflow {overflow} px)")
        driver.set_window_size(w, min(max(h, height + 120), 8000))
        path = shots / f"{view}-{size}.png"
        driver.save_screenshot(str(path))
        print(f"     screenshot {path}")
    driver.set_window_size(*SIZES["laptop"])


def console_errors():
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


try:
    # 1. The token: asked for, then used for every call.
    driver.get(base + "/dashboard")
    wait.until(EC.presence_of_element_located((By.ID, "token-form")))
    check(True, "the dashboard asks for the read token")
    screenshot("token")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#token-form button").click()
    ready("overview")

    # 2. Overview.
    model = api("/v1/model")
    facts = driver.execute_script("return Object.fromEntries([...document.querySelectorAll('dl[data-table=snapshot] dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent]))")
    check(facts.get("users") == f"{model['snapshot']['users']:,}", f"overview users {facts.get('users')} = API {model['snapshot']['users']}")
    check(facts.get("interactions") == f"{model['snapshot']['interactions']:,}", "overview interactions match the API")
    parts = rendered("overview")
    for p in parts:
        check(p["rendered"] == "true" and p["marks"] > 0, f"overview {p['kind']} {p['name']} drew ({p['marks']} marks)")
    check({p["name"] for p in parts} >= {"snapshot", "traffic", "models", "training-curve", "latency-p99", "routes"}, "overview has every part")
    check(column("models", 1)[0] == "neumf", "the models table shows the trained follow model")
    # The page refreshes itself; after one cycle the rates are measured.
    wait.until(lambda d: "events/s" in d.execute_script("return document.querySelector('dl[data-table=traffic] dd').textContent"))
    check(True, "ingest rate measured after the 5 s refresh")
    screenshot("overview")

    # 3. User explorer: a user with follows and engagement, looked up through the form.
    user = next(u for u in (f"u{i}" for i in range(300)) if (s := api(f"/v1/users/{u}"))["followees"] > 3 and s["engagedAuthors"])
    driver.find_element(By.CSS_SELECTOR, "nav a[data-view=user]").click()
    ready("user")
    box = driver.find_element(By.ID, "user-id")
    box.clear()
    box.send_keys(user)
    driver.find_element(By.CSS_SELECTOR, "#lookup button").click()
    wait.until(lambda d: d.execute_script("return location.hash") == "#/user/" + user)
    ready("user")
    expected = [i["user"] for i in api(f"/v1/users/{user}/follow-recommendations?explain=true")["items"]]
    shown = column("follow-recommendations", 1)
    check(shown == expected and len(shown) > 0, f"{user}: the page shows the API's suggestions in order ({len(shown)})")
    reasons = column("follow-recommendations", 3)
    check(all(reasons), "every suggestion shows its reason")
    features = column("follow-recommendations", 5)
    check(any(f != "—" for f in features), "the ranker's feature contributions are shown")
    for p in rendered("user"):
        empty_ok = p["name"] == "filtered" and p["rendered"] == "empty"
        check(empty_ok or (p["rendered"] == "true" and p["marks"] > 0), f"user {p['kind']} {p['name']} drew ({p['rendered']}, {p['marks']} marks)")
    engaged = column("engaged-authors", 0)
    check(engaged == [a["author"] for a in api(f"/v1/users/{user}")["engagedAuthors"]], "engaged authors match the API")
    feed = api(f"/v1/users/{user}/feed?explain=true")["items"]
    check(len(column("feed", 0)) == len(feed) > 0, f"the feed shows the API's {len(feed)} items")
    screenshot("user")

    # Another logic, through the switch.
    Select(driver.find_element(By.ID, "logic")).select_by_value("graph")
    driver.find_element(By.CSS_SELECTOR, "#lookup button").click()
    wait.until(lambda d: d.execute_script("return location.hash").endswith("?logic=graph"))
    ready("user")
    expected = [i["user"] for i in api(f"/v1/users/{user}/follow-recommendations?explain=true&logic=graph")["items"]]
    check(column("follow-recommendations", 1) == expected, f"logic graph: the page shows the API's list ({len(expected)})")
    screenshot("user-graph-logic")

    # A suggested account's own page, through its link.
    first = expected[0]
    driver.find_element(By.CSS_SELECTOR, "table[data-table='follow-recommendations'] tbody tr td a.user").click()
    wait.until(lambda d: d.execute_script("return decodeURIComponent(location.hash)") == "#/user/" + first)
    ready("user")
    heading = driver.execute_script("return [...document.querySelectorAll('.card h2')].map(h => h.textContent)")
    check(f"User {first}" in heading, f"the link opens {first}'s own page")

    errors = console_errors()
    check(not errors, f"the console logged no error on the overview and user views ({errors[:3]})")

    # An unknown user says so; the browser logs the 404 of that one request and nothing else.
    driver.get(base + "/dashboard#/user/" + urllib.parse.quote("no-such-user"))
    ready("user")
    check(driver.find_elements(By.ID, "not-found") != [], "an unknown user is reported as such")
    errors = console_errors()
    check(all("/v1/users/no-such-user" in e["message"] and "404" in e["message"] for e in errors),
          f"the only console entry is the unknown user's 404 ({errors[:3]})")

    # 4. Leaderboards.
    driver.find_element(By.CSS_SELECTOR, "nav a[data-view=leaderboards]").click()
    ready("leaderboards")
    boards = api("/v1/leaderboards?k=20")
    check(column("most-followed", 0) == [r["user"] for r in boards["mostFollowed"]], "most followed matches the API")
    check(column("hot-posts", 0) == [r["post"] for r in boards["hotPosts"]], "hot posts match the API")
    for p in rendered("leaderboards"):
        check(p["rendered"] == "true" and p["marks"] > 0, f"leaderboards {p['kind']} {p['name']} drew ({p['marks']} marks)")
    screenshot("leaderboards")

    errors = console_errors()
    check(not errors, f"the console logged no error on the leaderboards ({errors[:3]})")
finally:
    driver.quit()

check.finish(f"; screenshots in {shots}")
