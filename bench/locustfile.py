"""Locust users for `make load` (started by bench/load.py, which writes the fixtures file)."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, task

FIXTURES = json.loads(Path(os.environ["LOAD_FIXTURES"]).read_text(encoding="utf-8"))
TERMS = ["bio", "paris", "med", "onco", "imaging", "santé", "robot", "inserm", "hôpital", "data"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Visitor(HttpUser):
    """Anonymous visitors: the directory, organisation pages and the impact dashboard."""

    weight = 3
    wait_time = between(0.2, 1.0)

    @task(5)
    def directory_search(self) -> None:
        self.client.get(f"/members/?q={random.choice(TERMS)}", name="/members/?q=")

    @task(2)
    def directory_page(self) -> None:
        self.client.get(f"/members/?page={random.randint(1, 20)}", name="/members/?page=")

    @task(4)
    def organisation_page(self) -> None:
        self.client.get(f"/members/{random.choice(FIXTURES['slugs'])}/", name="/members/<slug>/")

    @task(2)
    def dashboard(self) -> None:
        self.client.get("/impact/", name="/impact/")


class MemberContact(HttpUser):
    """Member contacts: log in, then read their organisation's proposals."""

    weight = 1
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.account = random.choice(FIXTURES["contacts"])
        self.login()

    def login(self) -> None:
        page = self.client.get("/accounts/login/", name="/accounts/login/ (form)")
        token = CSRF.search(page.text)
        self.client.post(
            "/accounts/login/",
            {
                "username": self.account["email"],
                "password": FIXTURES["password"],
                "csrfmiddlewaretoken": token.group(1),
            },
            name="/accounts/login/ (POST)",
        )

    @task(4)
    def my_proposals(self) -> None:
        self.client.get("/projects/", name="/projects/")

    @task(6)
    def proposal_page(self) -> None:
        self.client.get(f"/projects/{random.choice(self.account['proposals'])}/", name="/projects/<id>/")

    @task(1)
    def log_in_again(self) -> None:
        self.client.cookies.clear()
        self.login()
