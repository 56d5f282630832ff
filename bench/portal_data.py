"""The public records the portal bench loads (``bench/portal.py``): projects of a provincial
platform (Jiangsu, 81 regions) over two years, each as the records the builders of
:mod:`ggzy.disclosure` would write for it — announcement, 0–2 clarifications, the opening record
or a failure, candidates, award, contract — with Chinese titles, bodies and ``data``."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2024, 10, 1, tzinfo=UTC)  # projects published over two years from here
SPAN = timedelta(days=730) - timedelta(days=75)  # the last contract still months before "now"

# --- vocabulary ---------------------------------------------------------------------------------

CITIES = {  # Jiangsu: city -> districts (GB/T 2260)
    "320100": ("南京市", {"320102": "玄武区", "320104": "秦淮区", "320105": "建邺区",
               "320106": "鼓楼区", "320111": "浦口区", "320113": "栖霞区", "320115": "江宁区"}),
    "320200": ("无锡市", {"320205": "锡山区", "320206": "惠山区", "320211": "滨湖区",
               "320213": "梁溪区", "320214": "新吴区", "320281": "江阴市", "320282": "宜兴市"}),
    "320300": ("徐州市", {"320302": "鼓楼区", "320303": "云龙区", "320311": "泉山区",
               "320312": "铜山区", "320321": "丰县", "320322": "沛县"}),
    "320400": ("常州市", {"320402": "天宁区", "320404": "钟楼区", "320411": "新北区",
               "320412": "武进区", "320413": "金坛区", "320481": "溧阳市"}),
    "320500": ("苏州市", {"320505": "虎丘区", "320506": "吴中区", "320507": "相城区",
               "320508": "姑苏区", "320509": "吴江区", "320581": "常熟市", "320582": "张家港市",
               "320583": "昆山市", "320585": "太仓市"}),
    "320600": ("南通市", {"320612": "通州区", "320613": "崇川区", "320614": "海门区",
               "320623": "如东县", "320681": "启东市", "320682": "如皋市"}),
    "320700": ("连云港市", {"320703": "连云区", "320706": "海州区", "320707": "赣榆区"}),
    "320800": ("淮安市", {"320803": "淮安区", "320804": "淮阴区", "320812": "清江浦区",
               "320813": "洪泽区"}),
    "320900": ("盐城市", {"320902": "亭湖区", "320903": "盐都区", "320904": "大丰区",
               "320981": "东台市"}),
    "321000": ("扬州市", {"321002": "广陵区", "321003": "邗江区", "321012": "江都区",
               "321081": "仪征市", "321084": "高邮市"}),
    "321100": ("镇江市", {"321102": "京口区", "321111": "润州区", "321112": "丹徒区",
               "321181": "丹阳市"}),
    "321200": ("泰州市", {"321202": "海陵区", "321203": "高港区", "321204": "姜堰区",
               "321281": "兴化市", "321283": "泰兴市"}),
    "321300": ("宿迁市", {"321302": "宿城区", "321311": "宿豫区", "321322": "沭阳县"}),
}  # fmt: skip
PLACES = [(city, name, city, name) for city, (name, _) in CITIES.items()] + [
    (code, district, city, name)
    for city, (name, districts) in CITIES.items()
    for code, district in districts.items()
]  # (region code, place name, city code, city name)
CATEGORIES = [("works", "GC", 50), ("procurement", "ZC", 38), ("land", "TD", 6),
              ("state-property", "CQ", 4), ("mining", "KY", 2)]  # fmt: skip
PROCEDURES = {"works": ["open_tender", "open_tender", "invited_tender"],
              "procurement": ["open_tender", "competitive_consultation", "competitive_negotiation",
                              "inquiry", "single_source"],
              "land": ["listing", "auction"], "state-property": ["listing"],
              "mining": ["listing", "auction"]}  # fmt: skip
SUBJECTS = {
    "works": ["第一中学教学楼", "人民医院门诊楼", "城市主干道", "跨江大桥", "污水处理厂", "供水管网",
              "安置房小区", "体育馆", "图书馆", "河道整治", "老旧小区", "燃气管道", "垃圾中转站",
              "产业园区道路", "地下综合管廊", "公园绿化", "农村公路", "水库除险加固", "幼儿园"],
    "procurement": ["办公设备", "医疗设备", "教学设备", "信息化系统", "视频监控系统", "公务用车",
                    "食材配送服务", "物业管理服务", "保洁服务", "安保服务", "网络安全设备",
                    "服务器及存储", "实验室仪器", "课桌椅", "空调设备", "救护车"],
    "land": ["国有建设用地使用权", "商住用地", "工业用地", "仓储用地"],
    "state-property": ["国有股权", "房产租赁", "车辆处置", "设备资产"],
    "mining": ["采矿权", "建筑用砂石矿"],
}  # fmt: skip
WORKS = {"works": ["施工", "监理", "设计", "施工总承包", "改造工程", "新建工程", "维修工程"],
         "procurement": ["采购项目", "服务项目", "运维服务"], "land": ["挂牌出让", "拍卖出让"],
         "state-property": ["挂牌转让", "公开招租"], "mining": ["挂牌出让"]}  # fmt: skip
OWNERS = ["教育局", "卫生健康委员会", "住房和城乡建设局", "交通运输局", "水务局", "城市管理局",
          "财政局", "公安局", "自然资源和规划局", "城投集团有限公司", "人民医院", "第一中学"]  # fmt: skip
FIRMS = ["建设工程", "建筑安装", "市政工程", "路桥工程", "信息技术", "科技发展", "医疗器械",
         "物业管理", "环境工程", "水利工程", "装饰工程", "设备"]  # fmt: skip
FUNDS = ["财政资金", "自筹资金", "专项债券资金", "财政资金和自筹资金"]


def _firm(rnd: random.Random, city: str) -> dict[str, str]:
    n = rnd.randrange(100_000)
    name = f"{city}{'华瑞中天宏远恒信金诚鼎盛'[n % 11]}{rnd.choice(FIRMS)}有限公司"
    return {"name": name, "uscc": f"91{n:06d}MA{hashlib.md5(str(n).encode()).hexdigest()[:8].upper()}"}  # fmt: skip


def _announcement_body(p: dict[str, Any], rnd: random.Random) -> str:
    days = rnd.randint(60, 900)
    price = p["budget"]
    return (
        f"一、招标条件\n本招标项目{p['name']}已由{p['place']}发展和改革局以{p['place'][:2]}发改"
        f"〔{p['year']}〕{rnd.randint(10, 300)}号批准建设，招标人为{p['owner']}，建设资金来自"
        f"{rnd.choice(FUNDS)}，出资比例为100%。项目已具备招标条件，现对该项目进行公开招标。\n"
        f"二、项目概况与招标范围\n建设地点：{p['city_name']}{p['place']}。建设规模：总建筑面积约"
        f"{rnd.randint(2000, 90000)}平方米，最高投标限价{price}元。计划工期：{days}日历天。"
        f"招标范围：施工图纸及工程量清单所包含的全部内容，包括土建、安装、装饰装修、室外配套等。"
        f"标段划分：本项目划分为1个标段。\n三、投标人资格要求\n1. 投标人须具备独立法人资格，"
        f"具有建设行政主管部门核发的相应专业承包资质，并在人员、设备、资金等方面具有相应的施工"
        f"能力；拟派项目负责人须具备相应专业注册建造师执业资格，具备有效的安全生产考核合格证书，"
        f"且未担任其他在建工程项目的项目负责人。2. 近三年内在类似工程中无重大质量、安全事故，"
        f"未被列入失信被执行人名单、重大税收违法失信主体名单和政府采购严重违法失信行为记录名单。"
        f"3. 本次招标不接受联合体投标。\n四、招标文件的获取\n凡有意参加投标者，请于公告发布之日起"
        f"登录{p['city_name']}公共资源交易平台，使用数字证书免费下载招标文件及相关资料，获取时间"
        f"不少于5日。招标文件获取截止时间同投标截止时间。\n五、投标文件的递交\n投标文件递交的截止"
        f"时间（投标截止时间，下同）为开标当日9时30分，投标人应在截止时间前通过交易平台递交加密的"
        f"电子投标文件。逾期送达或未按要求加密的投标文件，交易平台将予以拒收。开标采用远程不见面"
        f"方式，投标人在开标后规定时间内使用数字证书完成解密。\n六、投标保证金\n投标保证金金额为"
        f"{int(float(price)) // 50}元，可采用银行保函、保险保单或电子保函等非现金形式提交。\n七、发布公告的"
        f"媒介\n本次招标公告同时在中国招标投标公共服务平台、{p['city_name']}公共资源交易平台上发布。"
        f"\n八、联系方式\n招标人：{p['owner']}，地址：{p['city_name']}{p['place']}，联系人：王工，"
        f"电话：0{rnd.randint(510, 527)}-{rnd.randint(10000000, 89999999)}。招标代理机构："
        f"{p['agent']['name']}，联系人：李工，电话：0{rnd.randint(510, 527)}-"
        f"{rnd.randint(10000000, 89999999)}。\n"
    )


def _project(n: int, rnd: random.Random) -> dict[str, Any]:
    region, place, _city, city_name = rnd.choice(PLACES)
    category, trading, _ = rnd.choices(CATEGORIES, [w for *_, w in CATEGORIES])[0]
    published = START + SPAN * rnd.random()
    subject = rnd.choice(SUBJECTS[category])
    name = f"{place if place != city_name else ''}{subject}{rnd.choice(WORKS[category])}"
    return {
        "public_id": f"prj_{n:07d}", "code": f"{region}{published.year}{trading}{n:06d}",
        "section": f"sec_{n:07d}", "name": f"{city_name}{name}", "region": region,
        "place": place, "city_name": city_name, "category": category, "year": published.year,
        "procedure": rnd.choice(PROCEDURES[category]), "published": published,
        "owner": f"{city_name}{place if place != city_name else ''}{rnd.choice(OWNERS)}",
        "agent": _firm(rnd, city_name), "budget": f"{rnd.randint(50, 90000) * 10000}.00",
    }  # fmt: skip


def project_records(n: int, rnd: random.Random) -> list[dict[str, Any]]:
    """The disclosed records of one project, in the order they were disclosed."""
    p = _project(n, rnd)
    out: list[dict[str, Any]] = []
    at = p["published"]
    fails = rnd.random() < 0.05
    stages = ["announcement"] + ["clarification"] * rnd.choices([0, 1, 2], [70, 20, 10])[0]
    stages += ["failure"] if fails else ["opening", "candidates", "award", "contract"]
    if not fails and rnd.random() < 0.15:
        stages.pop()  # the contract not yet published
    final = {"failure": "failed", "opening": "opened", "candidates": "publicity",
             "award": "awarded", "contract": "contracted"}[stages[-1]]  # fmt: skip
    bidders = [_firm(rnd, p["city_name"]) for _ in range(rnd.randint(3, 8))]
    prices = sorted(int(float(p["budget"]) * rnd.uniform(0.82, 0.99)) for _ in bidders)
    project_url, section_url = f"/projects/{p['public_id']}/", f"/award/sections/{p['section']}/"
    for number, stage in enumerate(stages):
        at += timedelta(days=rnd.uniform(2, 25), seconds=rnd.randint(0, 86_399))
        where = {"category": p["category"], "region": p["region"], "procedure": p["procedure"]}
        rec: dict[str, Any] = {"project_code": p["code"], "section_code": f"{p['code']}001",
                               "published_at": p["published"] if stage == "announcement" else at,
                               "source": "", **where}  # fmt: skip
        if stage == "announcement":
            rec.update(key=f"announcement:{p['public_id']}", title=f"{p['name']}招标公告",
                       body=_announcement_body(p, rnd), status=final, url=project_url,
                       section_code="", data={
                           "project": p["public_id"], "trading_code": p["code"], "name": p["name"],
                           **where, "tenderer": {"name": p["owner"]}, "agent": p["agent"],
                           "budget": p["budget"], "funding_source": rnd.choice(FUNDS),
                           "published_at": p["published"].isoformat(),
                           "sections": [{"section": p["section"], "code": f"{p['code']}001",
                                         "number": 1, "name": "第一标段", "max_price": p["budget"],
                                         "status": final}],
                           "documents": [{"name": "招标文件.pdf", "kind": "tender",
                                          "sha256": hashlib.sha256(p["code"].encode()).hexdigest()}],
                       })  # fmt: skip
            at = p["published"]
        elif stage == "clarification":
            rec.update(key=f"clarification:{p['public_id']}:{number}",
                       title=f"{p['name']}澄清与修改（第{number}次）", status="issued",
                       body=f"各潜在投标人：{p['name']}招标文件第三章“评标办法”第2.2.4项及工程量"
                            f"清单第{rnd.randint(3, 40)}项作如下修改：原“{rnd.randint(2, 9)}项”"
                            f"修改为“{rnd.randint(2, 9)}项”，投标截止时间及开标时间不变。本澄清与"
                            f"修改是招标文件的组成部分，与招标文件具有同等效力，请各投标人据此编制"
                            f"投标文件。如有疑问请与招标代理机构联系。",
                       url=f"{project_url}#clarification-{number}", section_code="",
                       data={"project": p["public_id"], "number": number,
                             "title": f"第{number}次澄清"})  # fmt: skip
        elif stage == "failure":
            rec.update(key=f"failure:{p['section']}", title=f"{p['name']} 第一标段 流标公告",
                       body="递交投标文件的投标人少于3个，本标段流标。", status="failed",
                       url=project_url, data={"section": p["section"], "reason": "too_few_bids",
                                              "at": at.isoformat()})  # fmt: skip
        elif stage == "opening":
            bids = [{"bidder": b["name"], "uscc": b["uscc"], "price": f"{x}.00"}
                    for b, x in zip(bidders, prices, strict=True)]  # fmt: skip
            rec.update(key=f"opening:{p['section']}", title=f"{p['name']} 第一标段 开标记录",
                       body=" ".join(b["name"] for b in bidders), status="opened",
                       url=project_url, data={"section": p["section"], "record": {"bids": bids},
                                              "signature": hashlib.sha512(p["code"].encode()).hexdigest(),
                                              "record_seq": n})  # fmt: skip
        elif stage == "candidates":
            rows = [{"rank": i + 1, "bidder": b, "price": f"{x}.00", "withdrawn": False}
                    for i, (b, x) in enumerate(zip(bidders[:3], prices[:3], strict=True))]  # fmt: skip
            rec.update(key=f"candidates:{p['section']}", status=final, url=section_url,
                       title=f"{p['name']} 第一标段 中标候选人公示",
                       body=" ".join(f"第{r['rank']}名 {r['bidder']['name']}" for r in rows),
                       data={"section": p["section"], "starts_at": at.isoformat(),
                             "ends_at": (at + timedelta(days=3)).isoformat(),
                             "candidates": rows})  # fmt: skip
        elif stage == "award":
            rec.update(key=f"award:{p['section']}", status=final, url=section_url,
                       title=f"{p['name']} 第一标段 中标结果公告",
                       body=f"中标人：{bidders[0]['name']}，中标金额：{prices[0]}.00元",
                       data={"section": p["section"], "winner": bidders[0], "rank": 1,
                             "amount": f"{prices[0]}.00", "issued_at": at.isoformat(),
                             "record_sha256": hashlib.sha256(p["section"].encode()).hexdigest()})  # fmt: skip
        else:
            rec.update(key=f"contract:{p['section']}", status="contracted", url=section_url,
                       title=f"{p['name']} 第一标段 合同公开",
                       body=f"合同金额：{prices[0]}.00元，签订日期：{at.date()}，供应商/承包人："
                            f"{bidders[0]['name']}",
                       data={"section": p["section"], "supplier": bidders[0],
                             "amount": f"{prices[0]}.00", "signed_on": str(at.date())})  # fmt: skip
        rec["kind"] = stage
        rec["changed_at"] = max(rec["published_at"], at) + timedelta(seconds=rnd.randint(1, 60))
        out.append(rec)
    # the announcement shows the project's status: its last version is the last change
    out[0]["changed_at"] = out[-1]["changed_at"] + timedelta(seconds=1)
    return out
