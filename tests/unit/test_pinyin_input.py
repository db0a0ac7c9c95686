"""The pinyin composition engine: segmenting, candidates, choosing, paging, English mode."""

from __future__ import annotations

import math
import statistics
import time

import pytest
from pypinyin import lazy_pinyin

from terminal.pinyin_data import COMMON_HANZI, SURNAME_READINGS
from terminal.pinyin_input import PinyinComposer
from terminal.pinyin_lexicon import lexicon, toneless

# The surnames the issue names: every one must be findable by its name reading.
SURNAMES = ("张王李赵刘陈杨黄周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于"
            "杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎"
            "史陶贺毛郝顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文")


def typed(letters: str, **kw) -> PinyinComposer:
    composer = PinyinComposer(**kw)
    for key in letters:
        assert composer.type(key) == ""
    return composer


@pytest.mark.parametrize(("reading", "plain"), [
    ("zhāng", "zhang"), ("lǘ", "lv"), ("nǚ", "nv"), ("xiàn", "xian"), ("ān", "an")])
def test_toneless_drops_tones_and_writes_u_umlaut_as_v(reading, plain):
    assert toneless(reading) == plain


def test_common_hanzi_list_is_about_500_distinct_characters():
    assert len(COMMON_HANZI) == len(set(COMMON_HANZI)) >= 480


@pytest.mark.parametrize(("letters", "first"), [
    ("shenfenzheng", "shen'fen'zheng"), ("zhangsan", "zhang'san"), ("sfz", "s'f'z"),
    ("fangan", "fang'an"), ("xi'an", "xi'an"), ("shenfenzh", "shen'fen'zh"),
    ("nvren", "nv'ren")])
def test_composition_shows_the_likeliest_syllables(letters, first):
    assert typed(letters).composition == first


def test_an_ambiguous_string_offers_every_reading():
    readings = typed("xian").segmentations()
    assert readings[0] == ["xian"]
    assert ["xi", "an"] in readings
    assert ["fan", "gan"] in typed("fangan").segmentations()


def test_letters_that_spell_nothing_stay_as_typed():
    composer = typed("iii")
    assert composer.segmentations() == []
    assert composer.composition == "iii"
    assert composer.candidates() == []
    assert composer.page_count == 0


@pytest.mark.parametrize("letters", ["shenfenzheng", "sfz", "shenfz", "shenfenz"])
def test_id_card_from_full_pinyin_initials_or_a_mix(letters):
    assert typed(letters).candidates(0)[0] == "身份证"


def test_zhang_offers_the_surname_on_the_first_page():
    assert "张" in typed("zhang").candidates(0)


def test_xian_offers_both_xian_and_xi_an():
    first_page = typed("xian").candidates(0)
    assert "先" in first_page
    assert "西安" in first_page


@pytest.mark.parametrize("surname", SURNAMES)
def test_every_common_surname_is_among_the_first_24_candidates(surname):
    reading = SURNAME_READINGS.get(surname) or lazy_pinyin(surname)[0]
    words = [c.word for c in typed(reading).all_candidates()]
    assert surname in words[:24]  # shi is the crowded one: 石 15th, 史 19th


def test_vocabulary_words_come_first():
    composer = typed("jmsfzsl", vocabulary=["居民身份证申领"])
    assert composer.candidates(0)[0] == "居民身份证申领"
    assert typed("jiehun").candidates(0)[0] == "结婚"
    assert typed("shanghaishi").candidates(0)[0] == "上海市"


def test_choosing_a_partial_candidate_leaves_the_rest_composed():
    composer = typed("zhangsan")
    assert composer.choose(composer.candidates(0).index("张")) == "张"
    assert composer.letters == "san"
    assert composer.composition == "san"
    assert composer.choose(composer.candidates(0).index("三")) == "三"
    assert not composer.composing
    assert composer.candidates() == []


def test_choosing_a_whole_match_ends_the_composition():
    composer = typed("sfz")
    assert composer.choose(0) == "身份证"
    assert composer.letters == ""


def test_choosing_after_an_apostrophe_drops_it():
    composer = typed("xi'an")
    assert composer.choose(composer.candidates(0).index("西")) == "西"
    assert composer.letters == "an"


def test_backspace_removes_letters_then_reports_nothing_left():
    composer = typed("zhangs")
    assert composer.backspace() is True
    assert composer.letters == "zhang"
    for _ in range(5):
        assert composer.backspace() is True
    assert composer.backspace() is False


def test_clear_drops_the_composition():
    composer = typed("zhang")
    composer.clear()
    assert not composer.composing
    assert composer.composition == ""


def test_pages_partition_the_candidates():
    composer = typed("shi", page_size=5)
    every = [c.word for c in composer.all_candidates()]
    assert composer.page_count == math.ceil(len(every) / 5) > 3
    paged = [w for p in range(composer.page_count) for w in composer.candidates(p)]
    assert paged == every
    assert len(set(every)) == len(every)
    assert composer.candidates(composer.page_count) == []
    second = composer.candidates(1)[0]
    assert composer.choose(5) == second


def test_choosing_past_the_end_commits_nothing():
    composer = typed("zhang")
    assert composer.choose(10_000) == ""
    assert composer.letters == "zhang"


def test_english_mode_passes_letters_through():
    composer = PinyinComposer()
    composer.english = True
    assert [composer.type(k) for k in "Zhang"] == list("Zhang")
    assert not composer.composing


def test_other_keys_commit_the_letters_typed_so_far_then_themselves():
    composer = typed("ab")
    assert composer.type("3") == "ab3"
    assert not composer.composing
    assert composer.type("-") == "-"
    assert composer.type("'") == "'"  # nothing composed: the apostrophe is just a character


def test_flush_commits_the_raw_letters():
    composer = typed("xi'an")
    assert composer.flush() == "xian"
    assert not composer.composing


def test_a_second_apostrophe_is_ignored():
    composer = typed("xi")
    composer.type("'")
    composer.type("'")
    assert composer.letters == "xi'"


def test_lookup_per_keystroke_is_fast_once_the_lexicon_is_built():
    lexicon()
    composer = PinyinComposer()
    spent = []
    for word in ("shenfenzheng", "zhangsan", "shanghaishipudongxinqu", "sfz", "wangxiaoming"):
        composer.clear()
        for key in word:
            composer.type(key)
            started = time.perf_counter()
            composer.candidates(0)
            spent.append(time.perf_counter() - started)
    assert statistics.median(spent) < 0.005
