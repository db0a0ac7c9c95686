"""Synthetic service guides for benchmarks: many realistic-looking guides from the real catalogue.

`synthetic_guides(n, seed)` keeps every element of a real guide (so screens and search see
complete records) and varies what search looks at: the name (a real name with a business
situation, or a certificate with an action, e.g. 排水许可证延续), the item code, keywords, topic
and department. Deterministic for a seed.
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remote.local_catalogue import catalogue_files, load_catalogue
from remote.platform_local import DEFAULT_CATALOGUE
from remote.platform_models import Audience, Guide

SITUATIONS = ("", "（变更）", "（补领）", "（注销）", "（延续）", "（首次申请）", "（告知承诺）",
              "（港澳台居民）", "（外国人）", "（分支机构）", "（跨省通办）", "（长三角通办）",
              "（简易程序）", "（代办）", "（个体工商户）", "（老年人）", "（残疾人）",
              "（新生儿）")
CERTIFICATES = ("排水许可证", "养犬登记证", "消防安全检查合格证", "建设工程规划许可证",
                "燃气经营许可证", "医疗机构执业许可证", "危险化学品经营许可证", "道路运输证",
                "中华人民共和国护照", "港澳通行证", "律师执业证", "教师资格证", "导游证",
                "特种设备使用登记证", "二类医疗器械经营备案凭证", "酒类商品零售许可证",
                "营业性演出许可证", "网络文化经营许可证", "民办学校办学许可证", "计量器具型式批准",
                "城市建筑垃圾处置核准", "临时占用城市道路许可", "绿化迁移许可", "殡葬服务许可",
                "母婴保健技术服务执业许可证", "放射诊疗许可证", "职业技能等级证书", "居住证积分",
                "人才引进落户", "高龄老人医疗护理计划", "困难残疾人生活补贴", "城乡居民养老保险",
                "最低生活保障", "临时救助", "住房租赁补贴", "廉租住房", "公共租赁住房")
ACTIONS = ("核发", "变更", "延续", "补办", "注销", "换领", "查询", "备案", "申领", "审批", "认定",
           "年度报告", "信息更正", "资格审核", "待遇申领")
KEYWORDS = ("办证", "补证", "换证", "到期", "丢失", "查询", "证明", "许可证", "开店", "退休",
            "老人", "孩子", "公司", "租房", "买房", "看病", "医保", "社保", "公积金", "营业执照")


def real_guides() -> tuple[Guide, ...]:
    """The guides of the sample catalogue (assets/catalogue)."""
    return load_catalogue(catalogue_files(DEFAULT_CATALOGUE)).guides


def synthetic_guides(n: int, seed: int = 1) -> list[Guide]:
    """`n` complete guides derived from the real ones; the real ones come first (n permitting)."""
    rng = random.Random(seed)
    base = list(real_guides())
    topics = sorted({(g.topic_zh, g.topic_en) for g in base})
    departments = sorted({g.department for g in base})
    out = base[:n]
    while len(out) < n:
        model = rng.choice(base)
        if rng.random() < 0.5:
            name = model.name_zh + rng.choice(SITUATIONS)
        else:
            name = rng.choice(CERTIFICATES) + rng.choice(ACTIONS) + rng.choice(SITUATIONS)
        number = len(out) + 1
        topic_zh, topic_en = model.topic_zh, model.topic_en
        if rng.random() < 0.3:
            topic_zh, topic_en = rng.choice(topics)
        audiences = model.audiences if rng.random() < 0.8 else tuple(Audience)
        code = f"SYN-{number:05d}"
        out.append(replace(
            model, item_code=code, name_zh=name, name_en=f"{model.name_en} ({number})",
            audiences=audiences, topic_zh=topic_zh, topic_en=topic_en,
            department=model.department if rng.random() < 0.7 else rng.choice(departments),
            keywords=tuple(rng.sample(KEYWORDS, rng.randint(0, 3))),
            link=f"https://zwdt.example.gov.cn/guide/{code}"))
    return out
