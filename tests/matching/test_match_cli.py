import csv

import pytest
from click.testing import CliRunner

from connector.cli import cli
from connector.errors import InvalidRecordError
from connector.matching.csvio import read_accounts, read_leads

ACCOUNTS = """id,name,domain,extra_domains,country,parent_id
a1,Acme Corp,https://www.acme.com/,acme.co.uk;acme.de,USA,
a2,Acme GmbH,acme-gmbh.de,,Deutschland,a1
,No Id Inc,noid.com,,,
a3,,noname.com,,,
a1,Duplicate Acme,dup.com,,,
a4,Globex,not a domain,globex.com;;bad..domain,Narnia,
"""
LEADS = """id,email,company,country
l1,jane@eu.acme.com,,
l2,bob@gmail.com,Globex Inc.,UK
l3,not-an-email,Acme GmbH,DE
l4,x@unknown.org,Unknown Ltd,
,nobody@acme.com,,
l1,again@acme.com,,
"""


@pytest.fixture
def files(tmp_path):
    accounts, leads = tmp_path / "accounts.csv", tmp_path / "leads.csv"
    accounts.write_text(ACCOUNTS, encoding="utf-8")
    leads.write_text(LEADS, encoding="utf-8")
    return accounts, leads, tmp_path / "matches.csv"


def test_accounts_csv_keeps_good_rows_and_reports_bad_ones(files):
    accounts, problems = read_accounts(files[0])
    assert [a.id for a in accounts] == ["a1", "a2", "a4"]
    assert accounts[0].domain == "acme.com"
    assert accounts[0].extra_domains == ("acme.co.uk", "acme.de")
    assert accounts[0].country == "US"
    assert accounts[2].domain is None and accounts[2].extra_domains == ("globex.com",)
    text = [str(p) for p in problems]
    assert any(t.startswith("line 4:") and "no id" in t for t in text)
    assert any(t.startswith("line 5 (a3)") and "no name" in t for t in text)
    assert any(t.startswith("line 6 (a1)") and "repeated" in t for t in text)
    assert any(t.startswith("line 7 (a4)") and "domain 'not a domain' dropped" in t for t in text)
    assert any("bad..domain" in t for t in text)
    assert any("country 'Narnia' dropped (unknown_country)" in t for t in text)


def test_leads_csv_normalizes_and_reports(files):
    leads, problems = read_leads(files[1])
    assert [lead.id for lead in leads] == ["l1", "l2", "l3", "l4"]
    assert leads[0].email_domain == "acme.com"
    assert leads[1].country == "GB"
    assert leads[2].email is None and leads[2].company == "Acme GmbH"
    assert any(str(p) == "line 4 (l3): email 'not-an-email' dropped (no_at_sign)" for p in problems)
    assert len(problems) == 3


def test_missing_columns_are_a_clear_error(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("identifier,title\n1,Acme\n", encoding="utf-8")
    with pytest.raises(InvalidRecordError, match="missing column"):
        read_accounts(path)


def test_match_command_writes_one_row_per_lead(files):
    accounts, leads, out = files
    result = CliRunner().invoke(
        cli, ["match", "--accounts", str(accounts), "--leads", str(leads), "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["lead_id", "account_id", "method", "confidence"]
    got = {r["lead_id"]: (r["account_id"], r["method"]) for r in rows}
    assert got == {
        "l1": ("a1", "domain"),
        "l2": ("a4", "name"),
        "l3": ("a2", "name"),
        "l4": ("", "none"),
    }
    assert float(rows[0]["confidence"]) >= 0.95
    assert "4 leads matched against 3 accounts" in result.output
    assert "line 7 (a4)" in result.output  # problems go to stderr (mixed into output by the runner)


def test_match_command_uses_the_config_file(files, tmp_path):
    accounts, leads, out = files
    config = tmp_path / "leadrelay.yaml"
    config.write_text("matching:\n  name_matching: false\n", encoding="utf-8")
    args = ["match", "--accounts", str(accounts), "--leads", str(leads), "--out", str(out), "--config", str(config)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    with out.open(encoding="utf-8") as handle:
        methods = {r["lead_id"]: r["method"] for r in csv.DictReader(handle)}
    assert methods["l2"] == "none"


def test_match_command_rejects_a_bad_config(files, tmp_path):
    accounts, leads, out = files
    config = tmp_path / "leadrelay.yaml"
    config.write_text("matching:\n  min_confidence: 2\n", encoding="utf-8")
    args = ["match", "--accounts", str(accounts), "--leads", str(leads), "--out", str(out), "--config", str(config)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert "matching.min_confidence" in result.output
