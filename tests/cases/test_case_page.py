"""The case page: related cases (suspected duplicates, merged ones, open cases at the same place), the
actions allowed now as buttons opening their forms, and the keyboard shortcuts shown on the page."""

from __future__ import annotations

import re
from datetime import timedelta

from countyos.cases.lifecycle import Action
from countyos.cases.models import Case
from countyos.cases.pages.console import shortcuts_for
from countyos.cases.service import cases, duplicates
from countyos.core.clock import utcnow
from tests.cases.test_lifecycle import act, report
from tests.factories import login

# about 55 m and 220 m east of (119.27, 28.59)
NEAR, FAR = 119.27056, 119.27225


def test_related_cases_duplicates_merged_and_same_place(db, world):
    now = utcnow()
    main, _ = report(db, world, at=now - timedelta(hours=1))
    dup, _ = report(db, world, at=now - timedelta(minutes=30))  # same category and place: a suspected duplicate
    merged, _ = report(db, world, at=now - timedelta(minutes=20))
    act(db, world.intake, merged, Action.MERGE, now - timedelta(minutes=10), target_case_id=main)
    near, _ = report(db, world, category=world.cat_garbage, lon=NEAR, at=now - timedelta(days=3))
    far, _ = report(db, world, category=world.cat_garbage, lon=FAR, at=now - timedelta(days=3))
    too_old, _ = report(db, world, category=world.cat_garbage, lon=NEAR, at=now - timedelta(days=40))
    closed, _ = report(db, world, category=world.cat_stall, lon=NEAR, at=now - timedelta(days=2))
    act(db, world.intake, closed, Action.SELF_CLOSE, now - timedelta(days=1))
    with db.reading() as s:
        rel = duplicates.related(s, case=s.get(Case, main), visible=None, now=now)
        assert rel.duplicate_of is None and rel.merged_into is None
        assert [c.id for c in rel.suspected_duplicates] == [dup]
        assert [c.id for c in rel.merged_in] == [merged]
        assert [(c.id, round(d)) for c, d in rel.nearby] == [(near, 55)]  # not far, old, closed, or listed above
        assert too_old not in {c.id for c, _ in rel.nearby}
        other = duplicates.related(s, case=s.get(Case, dup), visible=None, now=now)
        assert other.duplicate_of is not None and other.duplicate_of.id == main
        gone = duplicates.related(s, case=s.get(Case, merged), visible=None, now=now)
        assert gone.merged_into is not None and gone.merged_into.id == main
        # a handler sees only the related cases of their department
        assert not duplicates.related(
            s, case=s.get(Case, main), visible=cases.visibility(s, _actor(db, world)), now=now
        )
        lonely = duplicates.related(s, case=s.get(Case, far), visible=None, now=now)
        assert not lonely


def _actor(db, world):
    from tests.cases.conftest import actor_of

    return actor_of(db, world.handler2)


def test_case_page_lists_related_cases_as_links(client, db, world):
    now = utcnow()
    main, _ = report(db, world, at=now - timedelta(hours=2))
    near, _ = report(db, world, category=world.cat_garbage, lon=NEAR, at=now - timedelta(hours=1))
    login(client, world.dispatcher)
    page = client.get(f"/cases/{main}").text
    related = page[page.index('id="related"') : page.index('id="timeline"')]
    assert f'href="/cases/{near}"' in related and re.search(r"55 (m|米)", related)


def test_shortcuts_pick_the_first_allowed_action_of_each_key():
    assert shortcuts_for(["accept", "reject", "comment"]) == {"accept": "a", "reject": "x", "comment": "c"}
    assert shortcuts_for(["redispatch", "comment"]) == {"redispatch": "d", "comment": "c"}
    assert shortcuts_for(["approve_return", "refuse_return"]) == {"approve_return": "r"}
    assert shortcuts_for([]) == {}


def test_actions_are_buttons_with_their_shortcuts_and_one_form_open(client, db, world):
    cid, _ = report(db, world)
    login(client, world.intake)
    page = client.get(f"/cases/{cid}").text
    buttons = re.findall(r'<a class="btn[^"]*" role="button" id="act-([a-z_]+)"[^>]*>', page)
    assert buttons[:3] == ["accept", "reject", "self_close"]
    assert re.search(r'id="act-accept" href="/cases/\d+\?act=accept#form-accept"[^>]*data-key="a"', page)
    # the first action's form is open, the others wait for their button
    assert re.search(r'id="form-accept" data-action-panel="accept" aria-labelledby="act-accept">', page)
    assert 'id="form-reject" data-action-panel="reject" aria-labelledby="act-reject" hidden>' in page
    assert 'id="shortcut-hint"' in page and 'id="shortcut-help"' in page
    # without scripts, a button's link opens its form
    other = client.get(f"/cases/{cid}?act=reject").text
    assert 'id="form-reject" data-action-panel="reject" aria-labelledby="act-reject">' in other
    assert 'id="form-accept" data-action-panel="accept" aria-labelledby="act-accept" hidden>' in other
