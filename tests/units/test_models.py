"""Units and insured persons: the model-level rules (validators, uniqueness, masking)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import InsuredPersonFactory, UnitFactory
from units.models import InsuredPerson, Unit
from units.samples import sample_id_number, sample_uscc

pytestmark = pytest.mark.django_db


def test_a_unit_with_a_valid_code_passes_full_clean_including_a_letter_first_code():
    # given an enterprise and a rural collective economic organisation (N2…)
    for unit in (
        Unit(uscc=sample_uscc(1), name="上海申江精密机械有限公司", region_code="310101"),
        Unit(uscc=sample_uscc(2, kind="N2", region_code="310112"), name="联明村股份经济合作社",
             region_code="310112"),
    ):  # fmt: skip
        # when / then
        unit.full_clean()
        unit.save()
    assert Unit.objects.count() == 2


def test_a_unit_with_a_bad_code_or_region_fails_full_clean():
    # given a code with a wrong check character and a 5-digit region
    code = sample_uscc(1)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    unit = Unit(uscc=wrong, name="某公司", region_code="31010")

    # when / then
    with pytest.raises(ValidationError) as refused:
        unit.full_clean()
    assert set(refused.value.message_dict) == {"uscc", "region_code"}


def test_a_unit_code_is_unique():
    # given
    UnitFactory(uscc=sample_uscc(7))

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        UnitFactory(uscc=sample_uscc(7))


def test_an_insured_person_is_stored_once_per_id_number():
    # given
    InsuredPersonFactory(id_number=sample_id_number(7))

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        InsuredPersonFactory(id_number=sample_id_number(7))


def test_an_insured_person_shows_the_masked_id_number_in_full_clean_and_str():
    # given a person whose number ends in X
    number = next(
        sample_id_number(n, region_code="110115")
        for n in range(1, 100)
        if sample_id_number(n, region_code="110115").endswith("X")
    )
    person = InsuredPerson(id_number=number, name="王芳")

    # when
    person.full_clean()

    # then
    assert person.masked_id_number == number[:6] + "********" + number[-4:]
    assert str(person) == f"王芳 {number[:6]}********{number[-4:]}"
    assert number not in str(person)


def test_an_insured_person_with_a_bad_id_number_fails_full_clean():
    # given
    number = sample_id_number(1)
    person = InsuredPerson(id_number=number[:-1] + ("0" if number[-1] != "0" else "1"), name="某")

    # when / then
    with pytest.raises(ValidationError) as refused:
        person.full_clean()
    assert set(refused.value.message_dict) == {"id_number"}


def test_unit_str_names_the_unit_and_its_code():
    unit = UnitFactory(name="上海申江精密机械有限公司", uscc=sample_uscc(3))
    assert str(unit) == f"上海申江精密机械有限公司 ({sample_uscc(3)})"
