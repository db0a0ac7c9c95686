"""Guide search: hanzi, pinyin (full, spaced, toned), initials, prefixes; ranking and filters."""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import chain

import pytest

from bench.catalogue_gen import real_guides, synthetic_guides
from remote.platform_models import Audience, Guide
from terminal.guide_search import GuideIndex
from terminal.guide_text import normalise_query

REAL = real_guides()
ID_CARDS = {"居民身份证换领", "居民身份证补领", "临时居民身份证申领"}


def make(code: str, name: str, **changes: object) -> Guide:
    fields = {"item_code": code, "name_zh": name, "name_en": f"Item {code}", "topic_zh": "测试",
              "topic_en": "Testing", "department": "申江区测试局", "keywords": ()}
    return replace(REAL[0], **{**fields, **changes})


@pytest.fixture(scope="module")
def index() -> GuideIndex:
    return GuideIndex(REAL)


def names(guides: list[Guide]) -> list[str]:
    return [g.name_zh for g in guides]


@pytest.mark.parametrize("query", ["身份证", "身份", "shenfenzheng", "shen fen zheng",
                                   "ShenFenZheng", "shēn fèn zhèng", "shen1 fen4 zheng4",
                                   "sfz", "SFZ", "shenf", "身份zh", "身份zheng"])
def test_the_id_card_items_come_first(index: GuideIndex, query: str) -> None:
    assert set(names(index.search(query)[:3])) == ID_CARDS


def test_a_syllable_prefix_may_rank_first(index: GuideIndex) -> None:
    assert names(index.search("shen"))[0] == "生育津贴申领"  # sheng: a name prefix
    assert set(names(index.search("shen"))) >= ID_CARDS


def test_typing_narrows_and_never_loses_the_wanted_item(index: GuideIndex) -> None:
    for typed in ("g", "gj", "gjj", "gong", "gongji", "gongjijin", "公", "公积", "公积金"):
        assert "住房公积金提取（离职、退休）" in names(index.search(typed)), typed


def test_exact_then_prefix_then_substring_then_initials_keywords_topics() -> None:
    guides = [make("G5", "另一事项", department="申江区社保中心"),
              make("G3", "补办社保卡"),
              make("G4", "其他事项", keywords=("社保",)),
              make("G2", "社保卡申领"),
              make("G1", "社保"),
              make("G0", "无关事项")]
    index = GuideIndex(guides)
    order = ["社保", "社保卡申领", "补办社保卡", "其他事项", "另一事项"]
    assert names(index.search("社保")) == order
    assert names(index.search("shebao")) == order
    assert names(index.search("sb")) == order  # initials: whole, prefix, later; then the rest
    assert names(index.search("hebao")) == []  # pinyin matches start at a syllable
    assert names(index.search("g3")) == ["补办社保卡"]  # an item code typed in full


def test_polyphones_read_as_in_their_phrase() -> None:
    guides = [make("A", "银行卡信息变更"), make("B", "行政复议申请"), make("C", "重新申领证件"),
              make("D", "长辈模式设置"), make("E", "长宁区人才公寓申请"), make("F", "旅行社登记")]
    index = GuideIndex(guides)
    assert names(index.search("yinhang")) == ["银行卡信息变更"]
    assert names(index.search("yinxing")) == []
    assert names(index.search("xingzheng")) == ["行政复议申请"]
    assert names(index.search("chongxin")) == ["重新申领证件"]
    assert names(index.search("zhangbei")) == ["长辈模式设置"]
    assert names(index.search("changning")) == ["长宁区人才公寓申请"]
    for typed in ("lv", "lu", "lü", "lǚxíngshè", "lxs"):
        assert names(index.search(typed)) == ["旅行社登记"], typed


def test_english_names_and_keywords(index: GuideIndex) -> None:
    assert "居民身份证换领" in names(index.search("id card"))
    assert names(index.search("birth"))[0] == "出生登记（新生儿申报户口）"
    assert names(index.search("领证"))[0] == "结婚登记预约"
    assert names(index.search("ga-1001")) == ["居民身份证换领"]


def test_filters_limit_and_browsing(index: GuideIndex) -> None:
    for g in index.search("dengji", audience=Audience.COMPANY):
        assert Audience.COMPANY in g.audiences
    assert all(g.topic_zh == "市场主体" for g in index.search("s", topic="市场主体"))
    assert all(g.topic_en == "Taxation" for g in index.search("s", topic="Taxation"))
    assert len(index.search("s", limit=3)) == 3
    assert index.search("   ") == list(REAL)[:50]
    assert index.search("", topic="税务") == index.browse(topic="税务")
    assert index.search("没有这个事项") == []
    topics = index.topics(Audience.COMPANY)
    assert ("市场主体", "Business registration") in topics
    assert ("户籍证件", "Household registration & ID") not in topics
    assert len(index.topics()) == len({g.topic_zh for g in REAL})
    browsed = index.browse(Audience.INDIVIDUAL, "户籍证件")
    assert browsed
    assert all(Audience.INDIVIDUAL in g.audiences for g in browsed)


def test_ranked_in_advance_equals_ranked_on_demand() -> None:
    index = GuideIndex(synthetic_guides(600, seed=3))
    keys = random.Random(5).sample(sorted(index._ready), 80)
    for key in keys:
        assert index._ready[key] == list(chain.from_iterable(index._top_tiers(key))), key


def test_query_normalisation() -> None:
    assert normalise_query(" Shēn Fèn-Zhèng ") == "shenfenzheng"
    assert normalise_query("shen1fen4") == "shenfen"
    assert normalise_query("GA-1001") == "ga1001"
    assert normalise_query("G3") == "g3"
    assert normalise_query("zhang3 bei4 er2") == "zhangbeier"
    assert normalise_query("ＳＦＺ") == "sfz"
    assert normalise_query("lü nǚ") == "lvnv"
