"""CommerceML element → dict conversion (the reader's hot loop inlines ``clean`` for leaves)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipelines.sources._cml_map import to_dict
from pipelines.sources._common import clean

_XML = """<Контрагент xmlns="urn:1C.ru:commerceml_2" xmlns:x="urn:extra">
  <Ид>\n  p-1 \u00a0</Ид>
  <Наименование>\ufeffИван\u00a0Петров\t</Наименование>
  <Комментарий>  \u00a0 </Комментарий>
  <ИНН/>
  <Контакты>
    <Контакт><Тип>Почта</Тип><Значение> a@example.ru </Значение></Контакт>
    <Контакт><Тип>Телефон</Тип><Значение/></Контакт>
  </Контакты>
  <Роль>Покупатель</Роль><Роль> Плательщик </Роль>
  <x:Код Тип="внутренний"> 42 </x:Код>
  <Метка Цвет="red"/>
</Контрагент>"""


def test_leaves_are_cleaned_like_clean_and_structure_is_kept() -> None:
    party = to_dict(ET.fromstring(_XML))
    assert party["Ид"] == clean("\n  p-1 \u00a0") == "p-1"
    assert party["Наименование"] == "Иван\u00a0Петров"  # inner NBSP kept
    assert party["Комментарий"] is None and party["ИНН"] is None
    contacts = party["Контакты"]["Контакт"]
    assert contacts == [
        {"Тип": "Почта", "Значение": "a@example.ru"},
        {"Тип": "Телефон", "Значение": None},
    ]
    assert party["Роль"] == ["Покупатель", "Плательщик"]
    assert party["Код"] == {"@Тип": "внутренний", "#text": "42"}  # namespace dropped
    assert party["Метка"] == {"@Цвет": "red"}
    assert list(party) == [
        "Ид",
        "Наименование",
        "Комментарий",
        "ИНН",
        "Контакты",
        "Роль",
        "Код",
        "Метка",
    ]


def test_single_leaf_and_repeat_of_one_value() -> None:
    assert to_dict(ET.fromstring("<Ид>  7 </Ид>")) == "7"
    assert to_dict(ET.fromstring("<Ид> </Ид>")) is None
    twice = to_dict(ET.fromstring("<a><b>1</b><b>1</b><b/></a>"))
    assert twice == {"b": ["1", "1", None]}
