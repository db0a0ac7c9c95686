"""Ranking data for the pinyin keyboard: common hanzi, surnames, the terminal's form vocabulary.

pypinyin ships readings but no frequencies, so candidates are ordered with the data here:
`COMMON_HANZI` is a hand-written list of about 500 of the most used characters in modern
written Chinese, most common first (a proxy, close to the published frequency lists; characters
outside it rank by how many of pypinyin's phrases use them). Surnames are lifted so that names,
which people type character by character, are found on the first pages.
"""

from __future__ import annotations

COMMON_HANZI = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下"
    "自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部"
    "其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又"
    "关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯"
    "月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入"
    "几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管"
    "期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像"
    "难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今"
    "切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令"
    "准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚"
    "请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早"
    "曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽"
    "推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴"
    "例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻"
    "父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普"
    "怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险"
    "待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策"
    "演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈刘读啊超免压"
    "银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛"
    "托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮"
)

# The common surnames, most frequent first; each is lifted under the reading used for names.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎"
    "贺顾毛郝龚邵万钱严覃武戴莫孔向汤常康易乔赖文欧"
)
# Surnames whose name reading is not the character's first reading in pypinyin.
SURNAME_READINGS = {"曾": "zeng", "覃": "qin", "单": "shan", "仇": "qiu", "解": "xie"}

# Words people type into the terminal's forms; the app adds its guide names to these.
FORM_VOCABULARY = (
    "身份证", "身份证号", "户口", "户口本", "户籍", "社保", "社保卡", "医保", "医保卡",
    "营业执照", "结婚", "结婚证", "离婚", "出生", "出生证明", "公积金", "养老金", "退休",
    "居住证", "护照", "驾驶证", "残疾证", "低保", "不动产", "房产证", "租赁", "合同",
    "姓名", "性别", "民族", "汉族", "地址", "住址", "电话", "手机", "手机号", "联系人",
    "联系电话", "证件", "证件号码", "申请人", "代理人", "委托书", "证明", "材料", "办理",
    "补办", "换证", "挂失", "注销", "变更", "登记", "迁入", "迁出", "落户", "子女", "父母",
    "配偶", "企业", "公司", "个体", "法人", "经营", "工作单位", "学校", "入学", "就业",
    "失业", "生育", "医疗", "老年人", "上海", "上海市", "浦东", "浦东新区", "黄浦", "徐汇",
    "长宁", "静安", "普陀", "虹口", "杨浦", "闵行", "宝山", "嘉定", "金山", "松江", "青浦",
    "奉贤", "崇明", "街道", "居委会", "村委会", "小区", "路", "号", "室", "弄", "栋", "幢",
    "楼", "层", "村", "镇", "区", "县", "市", "省", "北京", "中国", "西安",
)
