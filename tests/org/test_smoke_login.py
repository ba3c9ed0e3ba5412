from tests.factories import login, person


def test_dispatcher_logs_in_and_sees_home(client, db):
    p = person(db, ["dispatcher"])
    csrf = login(client, p)
    assert csrf
    r = client.get("/")
    assert r.status_code == 200
    assert "测试" in r.text
