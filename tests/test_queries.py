"""ccfi_portal.queries.PreparedQuery: the SQL built once, run with each call's values, gives what the queryset gives."""
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.db.transaction import TransactionManagementError

from accounts.models import User
from ccfi_portal.queries import PreparedQuery


def _users(pk, username):
    return (User.objects.select_related("city").filter(pk=pk, username=username)
            .annotate(label=Concat(F("username"), Value("@"), F("city__code"))))


USERS = PreparedQuery(_users, pk=int, username=str)


def test_each_run_binds_its_values_and_makes_the_instances_the_queryset_makes(filer_chongqing, filer_chengdu):
    for person in (filer_chongqing, filer_chengdu, filer_chongqing):  # the second call reuses the first's SQL
        (found,) = USERS.run(pk=person.pk, username=person.username)
        (expected,) = _users(person.pk, person.username)
        assert found.pk == expected.pk == person.pk
        assert {name: getattr(found, name) for name in ("username", "city_id", "is_active", "date_joined")} == {
            name: getattr(expected, name) for name in ("username", "city_id", "is_active", "date_joined")}
        assert User.city.is_cached(found) and found.city.code == person.city.code  # select_related, no query
        assert found.label == expected.label == f"{person.username}@{person.city.code}"
    assert USERS.run(pk=filer_chongqing.pk, username=filer_chengdu.username) == []
    assert USERS.first(pk=filer_chengdu.pk, username=filer_chengdu.username).pk == filer_chengdu.pk


def test_a_number_no_column_can_hold_finds_nothing(filer_chongqing):
    assert USERS.run(pk=2**63, username=filer_chongqing.username) == []
    assert USERS.first(pk=-2**64, username=filer_chongqing.username) is None


def test_a_parameter_not_in_the_sql_exactly_once_is_refused(db):
    twice = PreparedQuery(lambda pk: User.objects.filter(pk=pk) | User.objects.filter(city_id=pk), pk=int)
    with pytest.raises(ImproperlyConfigured, match="pk is in the SQL 2 times"):
        twice.run(pk=1)
    unused = PreparedQuery(lambda pk: User.objects.all(), pk=int)
    with pytest.raises(ImproperlyConfigured, match="pk is in the SQL 0 times"):
        unused.run(pk=1)
    with pytest.raises(ImproperlyConfigured, match="int or str: when"):
        PreparedQuery(lambda when: User.objects.filter(date_joined=when), when=object)


@pytest.mark.django_db(transaction=True)
def test_a_locking_query_runs_only_in_a_transaction(filer_chongqing):
    locked = PreparedQuery(lambda pk: User.objects.select_for_update().filter(pk=pk), pk=int)
    with transaction.atomic():
        assert locked.first(pk=filer_chongqing.pk).pk == filer_chongqing.pk
    if connection.features.has_select_for_update:  # PostgreSQL (CI); SQLite has no row locks to misuse
        with pytest.raises(TransactionManagementError):
            locked.run(pk=filer_chongqing.pk)


@pytest.mark.django_db
def test_postgresql_plans_a_statement_run_six_times_once(filer_chongqing, settings):
    """settings.py: with server-side binding, psycopg prepares a statement run a sixth time on a connection, and
    PostgreSQL plans it no more; SQLite is given no such option (its driver would refuse it)."""
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if connection.vendor != "postgresql":
        assert "server_side_binding" not in options and "prepare_threshold" not in options
        return
    assert options["server_side_binding"] is True and options["prepare_threshold"] == 5
    for _ in range(6):
        assert USERS.run(pk=filer_chongqing.pk, username=filer_chongqing.username)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%accounts_user%username%"])
        prepared = [row[0] for row in cursor.fetchall()]
    assert len(prepared) == 1 and "$1" in prepared[0] and "$2" in prepared[0]
