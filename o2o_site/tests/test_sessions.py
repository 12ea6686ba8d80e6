"""Sessions (o2o_site/sessions.py): Django's cached_db, each write to the database one statement."""

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from o2o_site import sessions
from o2o_site.sessions import SessionStore


def _stored(key):
    return SessionStore().decode(Session.objects.get(session_key=key).session_data)


@pytest.mark.django_db(transaction=True)
def test_a_new_session_is_one_insert_and_read_back_from_the_cache_or_the_database():
    # given a session holding a cart
    store = SessionStore()
    store["cart"] = {"4": 1}
    # when it is saved for the first time
    with CaptureQueriesContext(connection) as queries:
        store.save()
    # then one statement wrote it (no BEGIN/COMMIT, no query asking whether the key is taken)
    assert [query["sql"].split()[0] for query in queries] == ["INSERT"]
    assert _stored(store.session_key) == {"cart": {"4": 1}}
    # and it is read from the cache, or from the database once the cache has lost it
    assert SessionStore(store.session_key)["cart"] == {"4": 1}
    caches["default"].delete(store.cache_key)
    with CaptureQueriesContext(connection) as queries:
        assert SessionStore(store.session_key)["cart"] == {"4": 1}
    assert len(queries) == 1


@pytest.mark.django_db(transaction=True)
def test_a_changed_session_is_one_update():
    # given a saved session
    store = SessionStore()
    store["cart"] = {"4": 1}
    store.save()
    # when it changes
    store = SessionStore(store.session_key)
    store["cart"] = {"4": 2}
    with CaptureQueriesContext(connection) as queries:
        store.save()
    # then one UPDATE wrote it, and the cache has it too
    assert [query["sql"].split()[0] for query in queries] == ["UPDATE"]
    assert _stored(store.session_key) == {"cart": {"4": 2}}
    assert SessionStore(store.session_key)["cart"] == {"4": 2}


@pytest.mark.django_db(transaction=True)
def test_a_session_deleted_meanwhile_is_not_written_again():
    # given a session deleted from the database meanwhile (a logout in another tab)
    store = SessionStore()
    store["cart"] = {"4": 1}
    store.save()
    Session.objects.filter(session_key=store.session_key).delete()
    # when it is saved
    store["cart"] = {"4": 2}
    # then the save fails as Django's does (the session middleware answers "session interrupted")
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(session_key=store.session_key).exists()


@pytest.mark.django_db(transaction=True)
def test_a_new_key_already_taken_is_drawn_again(monkeypatch):
    # given a session, and a random draw that yields its key first
    taken = SessionStore()
    taken["cart"] = {"4": 1}
    taken.save()
    draws = iter([taken.session_key, "k" * 32])
    monkeypatch.setattr(sessions, "get_random_string", lambda *args: next(draws))
    # when a new session is made
    store = SessionStore()
    store["cart"] = {"5": 3}
    store.save()
    # then it has the next key, and the session holding the first is untouched
    assert store.session_key == "k" * 32
    assert _stored("k" * 32) == {"cart": {"5": 3}}
    assert _stored(taken.session_key) == {"cart": {"4": 1}}


@pytest.mark.django_db
def test_a_key_taken_inside_a_transaction_leaves_the_transaction_usable(monkeypatch):
    # given a session, and a random draw that yields its key first, inside a transaction (a test's)
    taken = SessionStore()
    taken["cart"] = {"4": 1}
    taken.save()
    draws = iter([taken.session_key, "k" * 32])
    monkeypatch.setattr(sessions, "get_random_string", lambda *args: next(draws))
    # when a new session is made
    store = SessionStore()
    store["cart"] = {"5": 3}
    store.save()
    # then the refused INSERT was undone to its savepoint: the transaction goes on
    assert Session.objects.count() == 2
