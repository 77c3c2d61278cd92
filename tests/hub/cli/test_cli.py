"""The command line as scripts drive it: exit codes, JSON, file:line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.testing.fake import fake_people


def _write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "crmhub.yaml"
    path.write_text(body)
    return path


def _sheet(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "customers.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "mail", "given", "family", "tel", "land"])
        for person in fake_people(count, seed=5):
            writer.writerow(
                [
                    person.number,
                    person.email,
                    person.first_name,
                    person.last_name,
                    person.phone,
                    person.country,
                ]
            )
    return path


def _config(tmp_path: Path) -> Path:
    return _write_config(
        tmp_path,
        f"""\
store: sqlite:///{tmp_path / "hub.db"}
connections:
  sheet:
    connector: files
    streams: [customers]
    config:
      path: customers.csv
      columns: {{id: external_id, mail: email, given: first_name, family: last_name,
                 tel: phone, land: address.country}}
""",
    )


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("crmhub 0.")


def test_init_writes_a_config_that_checks(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "crmhub.yaml"
    assert runner.invoke(app, ["init", "-c", str(path)]).exit_code == 0
    assert runner.invoke(app, ["init", "-c", str(path)]).exit_code == 1  # never overwrites
    checked = runner.invoke(app, ["config", "check", "-c", str(path), "--json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["ok"] is True


def test_a_typo_in_a_key_is_reported_at_its_line_with_exit_2(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _write_config(
        tmp_path,
        """\
store: sqlite:///hub.db
connections:
  sheet:
    connector: files
    strems: [customers]
    config: {path: customers.csv}
""",
    )
    result = runner.invoke(app, ["config", "check", "-c", str(path)])
    assert result.exit_code == 2
    assert f"{path}:5:5:" in result.output and "strems" in result.output
    assert "streams" in result.output  # the suggestion
    assert "Traceback" not in result.output


def test_a_config_error_stops_before_any_store_io(runner: CliRunner, tmp_path: Path) -> None:
    path = _write_config(
        tmp_path, f"store: sqlite:///{tmp_path / 'hub.db'}\nconnections: {{x: 1}}\n"
    )
    result = runner.invoke(app, ["sync", "-c", str(path)])
    assert result.exit_code == 2
    assert not (tmp_path / "hub.db").exists()


def test_missing_config_file_says_how_to_make_one(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["customers", "list", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "crmhub init" in result.output


def test_connectors_list_shows_the_file_connector(runner: CliRunner) -> None:
    result = runner.invoke(app, ["connectors", "list", "--json"])
    assert result.exit_code == 0
    [files] = [c for c in json.loads(result.stdout)["connectors"] if c["name"] == "files"]
    assert files == {
        "name": "files",
        "reads": ["customers", "interactions", "orders"],
        "writes": ["customers", "orders"],
        "module": "connectors.files.connector",
    }


def test_config_schema_is_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "connections" in schema["properties"]


def test_ten_thousand_customers_import_in_one_command(runner: CliRunner, tmp_path: Path) -> None:
    _sheet(tmp_path, 10_000)
    config = _config(tmp_path)
    synced = runner.invoke(app, ["sync", "-c", str(config), "--json"])
    assert synced.exit_code == 0, synced.output
    [result] = json.loads(synced.stdout)
    assert (result["counts"]["created"], result["counts"]["dead_letters"]) == (10_000, 0)
    listed = runner.invoke(app, ["customers", "list", "-c", str(config), "--json"])
    assert listed.exit_code == 0
    customers = json.loads(listed.stdout)
    assert len(customers) == 10_000
    assert len({c["emails"][0] for c in customers}) == 10_000


def test_customers_show_by_email_and_unknown(runner: CliRunner, tmp_path: Path) -> None:
    _sheet(tmp_path, 3)
    config = _config(tmp_path)
    runner.invoke(app, ["sync", "-c", str(config)])
    email = next(fake_people(1, seed=5)).email
    shown = runner.invoke(app, ["customers", "show", email.upper(), "-c", str(config), "--json"])
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert record["emails"] == [email]
    assert record["links"][0]["connection"] == "sheet"
    missing = runner.invoke(app, ["customers", "show", "nobody@example.com", "-c", str(config)])
    assert missing.exit_code == 1 and "no customer" in missing.output


def test_dead_letters_are_listed_shown_and_retried(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(
        "id,mail,given,family,tel,land\n1,ann@@example.com,Ann,Smith,,ES\n2,bo@example.com,Bo,Li,,ES\n"
    )
    config = _config(tmp_path)
    synced = runner.invoke(app, ["sync", "-c", str(config)])
    assert synced.exit_code == 0
    listed = json.loads(
        runner.invoke(app, ["deadletters", "list", "-c", str(config), "--json"]).stdout
    )
    assert [(d["external_id"], d["status"]) for d in listed] == [("1", "open")]
    shown = runner.invoke(
        app, ["deadletters", "show", str(listed[0]["id"]), "-c", str(config), "--json"]
    )
    assert json.loads(shown.stdout)["payload"]["mail"] == "ann@@example.com"
    still = runner.invoke(app, ["deadletters", "retry", "-c", str(config), "--json"])
    assert json.loads(still.stdout) == {"retried": 1, "passed": 0}
    runs = json.loads(runner.invoke(app, ["runs", "list", "-c", str(config), "--json"]).stdout)
    assert runs[-1]["counts"]["dead_letters"] == 1


def test_export_round_trips_through_the_file_connector(runner: CliRunner, tmp_path: Path) -> None:
    _sheet(tmp_path, 20)
    config = _config(tmp_path)
    assert runner.invoke(app, ["sync", "-c", str(config)]).exit_code == 0
    exported = tmp_path / "export.csv"
    result = runner.invoke(
        app, ["export", "customers", "--to", str(exported), "-c", str(config), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["records"] == 20

    again = tmp_path / "again"
    again.mkdir()
    reimport = _write_config(
        again,
        f"""\
store: sqlite:///{again / "hub.db"}
connections:
  exported: {{connector: files, config: {{path: {exported}}}}}
""",
    )
    assert runner.invoke(app, ["sync", "-c", str(reimport)]).exit_code == 0

    def people(path: Path) -> list[dict[str, object]]:
        listed = json.loads(
            runner.invoke(app, ["customers", "list", "-c", str(path), "--json"]).stdout
        )
        return sorted(
            ({k: v for k, v in c.items() if k not in ("hub_id", "updated_at")} for c in listed),
            key=lambda c: str(c["emails"]),
        )

    assert people(reimport) == people(config)


def test_customers_show_brings_the_shops_orders_into_the_record(
    runner: CliRunner, tmp_path: Path
) -> None:
    shipped = Path(__file__).resolve().parents[3] / "config"
    for name in ("sample-customers.csv", "sample-orders.csv"):
        (tmp_path / name).write_bytes((shipped / name).read_bytes())
    demo = (shipped / "demo.yaml").read_text().replace("../crmhub-demo/crmhub.db", "crmhub.db")
    config = tmp_path / "demo.yaml"
    config.write_text(demo)
    assert runner.invoke(app, ["sync", "-c", str(config)]).exit_code == 0
    with (tmp_path / "sample-orders.csv").open() as rows:
        first = next(csv.DictReader(rows))
    numbers = {
        row["number"]
        for row in csv.DictReader((tmp_path / "sample-orders.csv").open())
        if row["email"] == first["email"]
    }

    shown = runner.invoke(app, ["customers", "show", first["email"], "-c", str(config), "--json"])
    record = json.loads(shown.stdout)
    assert record["order_count"] == len(numbers)
    assert {o["number"] for o in record["orders"]} == numbers
    assert record["orders"][0]["source"] == "spreadsheet"
    human = runner.invoke(app, ["customers", "show", first["email"], "-c", str(config)])
    assert f"Orders ({len(numbers)} of {len(numbers)})" in human.output
