"""Migrate the peer's database, switch it to WAL, and create one published survey on one page with
the same questions as the app's wave: N radio questions of 1-5 (required), a comment (optional) and
the 0-10 recommendation (optional). Prints JSON: the survey's path and a valid POST body; with
`count`, prints the stored responses and answers instead."""

import json
import os
import sqlite3
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")


def seed(statements):
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with sqlite3.connect(os.environ["PEER_DATABASE"]) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    from survey.models import Question, Survey

    survey = Survey.objects.create(name="Bench", description="Benchmark survey", is_published=True,
                                   need_logged_user=False, editable_answers=False,
                                   display_method=Survey.ALL_IN_ONE_PAGE)
    form = {}
    for number in range(statements):
        question = Question.objects.create(text=f"Statement {number + 1}", order=number, required=True, survey=survey,
                                           type=Question.RADIO, choices="1,2,3,4,5")
        form[f"question_{question.pk}"] = str(1 + number % 5)
    comment = Question.objects.create(text="Comment", order=statements, required=False, survey=survey,
                                      type=Question.TEXT)
    recommend = Question.objects.create(text="Recommend", order=statements + 1, required=False, survey=survey,
                                        type=Question.RADIO, choices=",".join(str(value) for value in range(11)))
    form |= {f"question_{comment.pk}": "Benchmark comment", f"question_{recommend.pk}": "8"}
    return {"path": f"/survey/{survey.pk}/", "form": form}


def count():
    from survey.models import Answer, Response

    return {"responses": Response.objects.count(), "answers": Answer.objects.count()}


if __name__ == "__main__":
    django.setup()
    print(json.dumps(count() if sys.argv[1] == "count" else seed(int(sys.argv[1]))))
