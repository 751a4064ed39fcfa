"""The support-vs-erode board: tagging comments (leaders: every team, staff: their own), the suggestion a
person confirms, anonymity (team/month with at least min_n customer responses) and the board itself."""

import re
from datetime import UTC, datetime

from sqlalchemy import select

from perception.board import queries as board_queries
from perception.board.service import save_tag
from perception.core.models import CommentTag, Response, Survey
from perception.core.tokens import row_reference_of
from perception.demo.service import seed_demo
from perception.insights import suggest_tags
from tests.helpers import answered_one_by_one, bank_items, csrf_token, login, make_survey, make_team, make_user

MARCH = datetime(2026, 3, 10, 12, tzinfo=UTC)
COMMENTS = ["I felt like a ticket number.", "They promised a call back that never came.",
            "Such a friendly, warm welcome.", "Nobody told me the fee until the end.", None]


def _setup(db):
    big, small = make_team("Harbour"), make_team("Riverside")
    survey = make_survey("wave-1", items=bank_items())  # every dimension
    for comment in COMMENTS:
        db.session.add(Response(survey=survey, perspective="customer", team=big, submitted_at=MARCH, comment=comment))
    for comment in ("Rude and cold.", "Lovely people.", "I waited a long time."):  # 3 < min_n: never shown
        db.session.add(Response(survey=survey, perspective="customer", team=small, submitted_at=MARCH, comment=comment))
    db.session.commit()
    return survey, big, small


def _response_id(db, comment):
    return db.session.execute(select(Response.id).where(Response.comment == comment)).scalar_one()


def _tag(client, url, response_id, effect, dimension):
    page = client.get(url).get_data(as_text=True)
    ref = row_reference_of(response_id)  # a page names a comment by its reference, never by its id
    token = re.search(rf'name="c{ref}-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, f"comment {response_id} is not on {url}"
    return client.post(url, data={"comment": ref, f"c{ref}-csrf_token": token.group(1),
                                  f"c{ref}-effect": effect, f"c{ref}-dimension": dimension})


def test_leader_sees_only_comments_of_large_enough_team_months_with_a_suggestion(app, client, db):
    _setup(db)
    login(client, make_user("leader"))
    page = client.get("/leaders/surveys/wave-1/board/comments").get_data(as_text=True)
    assert "I felt like a ticket number." in page and "Harbour · 2026-03" in page
    assert "Rude and cold." not in page and "Riverside ·" not in page
    assert "4 comments" in page
    ref = row_reference_of(_response_id(db, "I felt like a ticket number."))
    # the suggestion is filled in: erodes, personal attention
    assert re.search(rf'id="c{ref}-effect-0"[^>]*checked|checked[^>]*id="c{ref}-effect-0"', page)
    assert re.search(r'<option selected value="personal_attention">|<option value="personal_attention" selected',
                     page)


def test_tagging_with_and_without_the_suggestion(app, client, db):
    survey, _big, _small = _setup(db)
    leader = make_user("leader")
    login(client, leader)
    url = "/leaders/surveys/wave-1/board/comments"
    ticket = _response_id(db, "I felt like a ticket number.")
    fee = _response_id(db, "Nobody told me the fee until the end.")
    assert _tag(client, url, ticket, "erodes", "personal_attention").status_code == 302
    assert _tag(client, url, fee, "erodes", "trust").status_code == 302  # the person disagrees with the suggestion
    saved = {tag.response_id: tag for tag in db.session.execute(select(CommentTag)).scalars()}
    assert saved[ticket].effect == "erodes" and saved[ticket].dimension.key == "personal_attention"
    assert saved[ticket].suggested is True and saved[ticket].tagged_by_id == leader.id
    assert saved[fee].suggested is False
    # a second tag on the same dimension changes it rather than adding one
    assert _tag(client, url + "?untagged=", ticket, "supports", "personal_attention").status_code == 302
    db.session.expire_all()
    changed = db.session.execute(select(CommentTag).where(CommentTag.response_id == ticket)).scalar_one()
    assert changed.effect == "supports"
    untagged = client.get(url).get_data(as_text=True)
    assert "I felt like a ticket number." not in untagged and "Such a friendly" in untagged


def test_an_incomplete_tag_re_renders_with_messages(app, client, db):
    _setup(db)
    login(client, make_user("leader"))
    rid = _response_id(db, "Such a friendly, warm welcome.")
    response = _tag(client, "/leaders/surveys/wave-1/board/comments", rid, "", "")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose whether it supports or erodes the relationship." in page
    assert "Choose the dimension of care it touches." in page
    assert _tag(client, "/leaders/surveys/wave-1/board/comments", rid, "supports", "no_such").status_code == 400
    assert db.session.execute(select(CommentTag)).first() is None


def test_hidden_and_unknown_comments_cannot_be_tagged(app, client, db):
    _setup(db)
    login(client, make_user("leader"))
    client.get("/leaders/surveys/wave-1/board/comments")
    token = csrf_token(client, "/leaders/surveys/wave-1/board/comments?untagged=")
    hidden = _response_id(db, "Rude and cold.")
    for comment in (row_reference_of(hidden), row_reference_of(999999)):
        response = client.post("/leaders/surveys/wave-1/board/comments",
                               data={"comment": comment, "csrf_token": token, "remove": "respect"})
        assert response.status_code == 404
    for malformed in ("x", str(hidden)):  # a response id is no reference
        assert client.post("/leaders/surveys/wave-1/board/comments", data={"comment": malformed}).status_code == 400


def test_staff_tag_only_their_own_team(app, client, db):
    _setup(db)
    harbour_staff = make_user("staff", team=make_team("Harbour"))
    login(client, harbour_staff)
    url = "/staff/surveys/wave-1/board/comments"
    page = client.get(url).get_data(as_text=True)
    assert "I felt like a ticket number." in page
    assert _tag(client, url, _response_id(db, "I felt like a ticket number."), "erodes",
                "personal_attention").status_code == 302
    client = app.test_client()  # a new browser for the second person
    login(client, make_user("staff", team=make_team("Riverside")))
    page = client.get(url).get_data(as_text=True)
    assert "ticket number" not in page and "Rude and cold." not in page  # their team has too few responses
    board = client.get("/staff/surveys/wave-1/board").get_data(as_text=True)
    assert "ticket number" not in board and "No eroding moments tagged yet" in board
    # another team's comment is unknown to them, whatever they post
    token = csrf_token(client, "/staff/surveys/wave-1/board")
    hidden = client.post(url, data={"comment": row_reference_of(_response_id(db, "I felt like a ticket number.")),
                                    "csrf_token": token, "remove": "personal_attention"})
    assert hidden.status_code == 404
    assert db.session.execute(select(CommentTag)).scalar_one() is not None
    assert client.get("/staff/surveys/wave-1/board?team=Harbour").status_code == 200  # team is fixed to their own


def test_comments_are_not_in_the_order_they_came_and_carry_no_response_id(app, client, db):
    """No consent, no link (DESIGN section 2): a comment shows its month. Listed newest first, or with
    its response's id on the page (ids count up as answers arrive), it would say when it came among
    the others, and so whose it is to whoever knows who answered when. The board's examples are not
    the newest either."""
    survey, team = make_survey("wave-1", items=bank_items(2)), make_team("Harbour")
    answered = answered_one_by_one(survey, team, MARCH.replace(hour=8))
    leader = make_user("leader")
    login(client, leader)
    page = client.get("/leaders/surveys/wave-1/board/comments").get_data(as_text=True)
    shown = re.findall(r'<blockquote class="comment">(answer \d)</blockquote>', page)
    assert sorted(shown) == sorted(answered) and shown not in (answered, answered[::-1]), shown
    ids = {str(rid) for rid in db.session.execute(select(Response.id)).scalars()}
    handles = (set(re.findall(r'name="comment" value="([^"]+)"', page))
               | set(re.findall(r'id="comment-([^"]+)"', page)) | set(re.findall(r'name="c([^"]+)-csrf_token"', page)))
    assert len(handles) == len(answered) and not handles & ids and not any(handle.isdigit() for handle in handles)
    for comment in answered:
        save_tag(survey, db.session.get(Response, _response_id(db, comment)), leader, "erodes", "trust")
    examples = board_queries.board(survey, 5).eroding[0].examples
    assert len(examples) == 3 and list(examples) != answered[:-4:-1], examples
    # Nor does the audit log of those tags, which an admin reads: it names each comment by the
    # reference the board shows (found by an attacker's read: it named the response by its id).
    admin_client = app.test_client()
    login(admin_client, make_user("admin"))
    audit = admin_client.get("/admin/audit?action=comment.tagged").get_data(as_text=True)
    named = re.findall(r"comments #([0-9a-f]{64})", audit)
    assert sorted(named) == sorted(handles) and "responses #" not in audit


def test_removing_a_tag(app, client, db):
    survey, _big, _small = _setup(db)
    leader = make_user("leader")
    rid = _response_id(db, "They promised a call back that never came.")
    save_tag(survey, db.session.get(Response, rid), leader, "erodes", "trust")
    login(client, leader)
    token = csrf_token(client, "/leaders/surveys/wave-1/board")
    response = client.post("/leaders/surveys/wave-1/board/comments?untagged=",
                           data={"comment": row_reference_of(rid), "csrf_token": token, "remove": "trust"})
    assert response.status_code == 302
    assert db.session.execute(select(CommentTag)).first() is None


def test_board_counts_and_examples_respect_team_and_month(app, client, db):
    survey, big, small = _setup(db)
    leader = make_user("leader")
    for comment, effect, dimension in [("I felt like a ticket number.", "erodes", "personal_attention"),
                                       ("They promised a call back that never came.", "erodes", "trust"),
                                       ("Nobody told me the fee until the end.", "erodes", "trust"),
                                       ("Such a friendly, warm welcome.", "supports", "kindness")]:
        save_tag(survey, db.session.get(Response, _response_id(db, comment)), leader, effect, dimension)
    result = board_queries.board(survey, 5)
    assert [(m.dimension, m.count) for m in result.eroding] == [("trust", 2), ("personal_attention", 1)]
    assert set(result.eroding[0].examples) == {"They promised a call back that never came.",
                                               "Nobody told me the fee until the end."}
    assert [(m.dimension, m.count) for m in result.supporting] == [("kindness", 1)]
    assert (result.tagged_comments, result.visible_comments) == (4, 4)
    assert board_queries.board(survey, 5, month="2026-04").eroding == []
    assert board_queries.board(survey, 5, team_id=small.id).eroding == []
    assert board_queries.board(survey, 6).eroding == []  # the month has 5 customer responses: fewer than 6
    login(client, leader)
    page = client.get("/leaders/surveys/wave-1/board?team=Harbour&month=2026-03").get_data(as_text=True)
    eroding = page.split('id="eroding-title"')[1].split('id="supporting-title"')[0]
    assert eroding.index("Trust") < eroding.index("Personal attention")
    assert "2 comments" in eroding and "They promised a call back that never came." in eroding
    assert client.get("/leaders/surveys/wave-1/board?month=1999-01").status_code == 400


def test_the_demo_board_lists_eroding_moments(app, client, db):
    seed_demo(now=datetime(2026, 11, 20, 12, tzinfo=UTC))
    survey = db.session.execute(select(Survey).where(Survey.slug == "2026-q4")).scalar_one()
    leader = make_user("leader")
    # On the first visit the board already tells a story: the demo ships most comments tagged, and
    # leaves some for the tagging page.
    shipped = board_queries.board(survey, 5)
    assert shipped.visible_comments > shipped.tagged_comments > shipped.visible_comments / 2
    assert shipped.eroding and shipped.supporting
    assert shipped.eroding[0].dimension in {"personal_attention", "attentiveness", "understanding"}
    keys = [key for key, _ in board_queries.survey_dimensions(survey)]
    page = 1
    while True:  # a person confirming every suggestion the word lists make
        rows, total = board_queries.comments_to_tag(survey, 5, untagged_only=False, page=page, dimension_keys=keys)
        for row in rows:
            suggestion = next((s for s in suggest_tags(row.comment, keys) if s.dimension), None)
            if suggestion:
                save_tag(survey, db.session.get(Response, row.response_id), leader, suggestion.effect,
                              suggestion.dimension)
        if page * board_queries.PAGE_SIZE >= total:
            break
        page += 1
    login(client, leader)
    page_text = client.get("/leaders/surveys/2026-q4/board").get_data(as_text=True)
    eroding = page_text.split('id="eroding-title"')[1].split('id="supporting-title"')[0]
    assert '<li class="moment moment-erodes">' in eroding and "<q>" in eroding
    assert "No eroding moments" not in eroding


def test_a_tag_posted_to_an_unknown_wave_or_with_stray_query_arguments_never_answers_500(app, client, db):
    _setup(db)
    login(client, make_user("admin"))
    rid = _response_id(db, "I felt like a ticket number.")
    url = "/leaders/surveys/wave-1/board/comments"
    page = client.get(url).get_data(as_text=True)
    ref = row_reference_of(rid)
    token = re.search(rf'name="c{ref}-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"comment": ref, f"c{ref}-csrf_token": token, f"c{ref}-effect": "erodes", f"c{ref}-dimension": "trust"}

    assert client.post("/leaders/surveys/zzz/board/comments", data=data).status_code == 404
    stray = client.post(f"{url}?slug=zzz&team=Harbour&month=2026-03&_anchor=x&_scheme=javascript", data=data)
    assert stray.status_code == 302
    assert stray.headers["Location"].endswith(f"{url}?team=Harbour&month=2026-03")
    # A forged Host with ?_external=1 does not make the redirect leave for that host.
    client.set_cookie("session", client.get_cookie("session").value, domain="evil.example")
    external = client.post(f"{url}?_external=1", data=data, headers={"Host": "evil.example"})
    assert external.status_code == 302 and "evil.example" not in external.headers["Location"]
    assert db.session.execute(select(CommentTag)).scalar_one().response_id == rid
