"""Demo data: a small Shanghai expert pool (Reg 35), its institutions and one medical group. Every person,
number and institution here is fictitious.

上海市某区医疗集团 has two sites; its main site bears the name of the respondent in the API's registration
example (上海市某区人民医院), and some experts work or worked there, so that a draw for that case has experts to
exclude (Reg 37: the respondent and any site of its group, now or within the last 3 years).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from domain.pool import InstitutionRow, parse_pool_csv
from models import repo_pool
from models.tables import Expert, Institution, InstitutionGroup

CITY = "上海市"
GROUP = InstitutionGroup(id="sh-mq-group", name="上海市某区医疗集团", city=CITY)
INSTITUTIONS = (
    InstitutionRow("sh-mq-main", "上海市某区人民医院", CITY, GROUP.id, GROUP.name, "上海市黄浦区某路1号"),
    InstitutionRow("sh-mq-east", "上海市某区人民医院东院", CITY, GROUP.id, GROUP.name, "上海市黄浦区某路99号"),
    InstitutionRow("sh-yk-fy", "上海某医科大学附属第一医院", CITY, address="上海市徐汇区某路100号"),
    InstitutionRow("sh-yk-ek", "上海某医科大学附属儿科医院", CITY, address="上海市闵行区某路18号"),
    InstitutionRow("sh-fy", "上海市某区妇幼保健院", CITY, address="上海市长宁区某路36号"),
    InstitutionRow("sh-zx", "上海市某区中心医院", CITY, address="上海市浦东新区某路200号"),
    InstitutionRow("sh-xk", "上海市某胸科医院", CITY, address="上海市徐汇区某路241号"),
    InstitutionRow("sh-jw", "上海市某精神卫生中心", CITY, address="上海市徐汇区某路600号"),
    InstitutionRow("sh-yk", "上海某医科大学", CITY, address="上海市徐汇区某路138号"),
    InstitutionRow("sh-zf", "上海某政法学院", CITY, address="上海市松江区某路7号"),
    InstitutionRow("sh-ls", "上海某律师事务所", CITY, address="上海市静安区某路88号"),
    InstitutionRow("sh-sj", "上海某司法鉴定中心", CITY, address="上海市普陀区某路1347号"),
)

POOL_CSV = """\
id,city,name,title,specialties,region,active,max_concurrent,phone,email,id_number,affiliations,relatives
SH-E0001,上海市,张建华,主任医师,产科,黄浦区,true,3,13916000001,,,sh-mq-main:2008-07-01:,
SH-E0002,上海市,李秀兰,主任医师,产科;妇科,徐汇区,true,3,13916000002,,,sh-yk-fy:2001-09-01:,
SH-E0003,上海市,王丽娟,副主任医师,产科,长宁区,true,3,13916000003,,,sh-fy:2010-08-01:,
SH-E0004,上海市,赵静,主任医师,产科;新生儿科,闵行区,true,2,13916000004,,,sh-mq-east:2012-03-01:2024-02-29;sh-fy:2024-03-01:,
SH-E0005,上海市,陈晓燕,副主任医师,产科,浦东新区,true,3,13916000005,,,sh-zx:2009-07-01:,
SH-E0006,上海市,刘红梅,主任医师,产科,徐汇区,true,3,13916000006,,,sh-yk-fy:1998-09-01:,
SH-E0007,上海市,杨慧,副主任医师,产科,黄浦区,true,3,13916000007,,,sh-mq-main:2005-07-01:2014-12-31;sh-fy:2015-01-01:,
SH-E0008,上海市,黄玉华,主任医师,妇科,长宁区,true,3,13916000008,,,sh-fy:1999-07-01:,
SH-E0009,上海市,周丽萍,副主任医师,妇科,浦东新区,true,3,13916000009,,,sh-zx:2011-07-01:,
SH-E0010,上海市,吴敏,主任医师,妇科;肿瘤科,徐汇区,true,3,13916000010,,,sh-yk-fy:2003-09-01:,
SH-E0011,上海市,徐亚萍,主任医师,妇科,黄浦区,false,3,13916000011,,,sh-mq-main:1990-07-01:2022-06-30,
SH-E0012,上海市,孙志强,主任医师,普通外科,黄浦区,true,3,13916000012,,310101197003150013,sh-mq-main:1995-07-01:,\
王芳:配偶:310101197205200026
SH-E0013,上海市,马建国,主任医师,普通外科,徐汇区,true,3,13916000013,,,sh-yk-fy:1996-09-01:,
SH-E0014,上海市,朱伟,副主任医师,普通外科,浦东新区,true,3,13916000014,,,sh-zx:2007-07-01:,
SH-E0015,上海市,胡永刚,主任医师,普通外科;急诊科,黄浦区,true,3,13916000015,,,sh-mq-east:2002-07-01:,
SH-E0016,上海市,郭海涛,主任医师,普通外科,闵行区,true,2,13916000016,,,sh-mq-main:2000-07-01:2023-09-30;sh-yk-fy:2023-10-01:,
SH-E0017,上海市,林志明,副主任医师,普通外科,静安区,true,3,13916000017,,,sh-zx:2013-07-01:,
SH-E0018,上海市,何建军,主任医师,骨科,徐汇区,true,3,13916000018,,,sh-yk-fy:1997-09-01:,
SH-E0019,上海市,高鹏,副主任医师,骨科,浦东新区,true,3,13916000019,,,sh-zx:2010-07-01:,
SH-E0020,上海市,罗文斌,主任医师,骨科;康复医学科,黄浦区,true,3,13916000020,,,sh-mq-main:2004-07-01:,
SH-E0021,上海市,郑国庆,主任医师,骨科,静安区,true,3,13916000021,,,sh-yk-fy:1994-09-01:2019-12-31;sh-zx:2020-01-01:,
SH-E0022,上海市,梁少华,副主任医师,骨科,普陀区,true,3,13916000022,,,sh-zx:2014-07-01:,
SH-E0023,上海市,谢伟东,主任医师,心血管内科,徐汇区,true,3,13916000023,,,sh-xk:1996-07-01:,
SH-E0024,上海市,宋建平,主任医师,心血管内科,浦东新区,true,3,13916000024,,,sh-zx:2001-07-01:,
SH-E0025,上海市,唐晓东,副主任医师,心血管内科;重症医学科,黄浦区,true,3,13916000025,,,sh-mq-east:2011-07-01:,
SH-E0026,上海市,韩立新,主任医师,心血管内科,徐汇区,true,3,13916000026,,,sh-yk-fy:1999-09-01:,
SH-E0027,上海市,冯雪梅,副主任医师,心血管内科,长宁区,true,3,13916000027,,,sh-xk:2012-07-01:,
SH-E0028,上海市,邓丽君,主任医师,儿科,闵行区,true,3,13916000028,,,sh-yk-ek:1998-07-01:,
SH-E0029,上海市,曹颖,主任医师,儿科;新生儿科,闵行区,true,3,13916000029,,,sh-yk-ek:2003-07-01:,
SH-E0030,上海市,彭晓峰,副主任医师,儿科,浦东新区,true,3,13916000030,,,sh-zx:2011-07-01:,
SH-E0031,上海市,曾思远,主任医师,儿科,黄浦区,true,3,13916000031,,,sh-mq-main:2006-07-01:,
SH-E0032,上海市,萧雅琴,副主任医师,儿科,长宁区,true,3,13916000032,,,sh-fy:2013-07-01:,
SH-E0033,上海市,田振华,主任医师,麻醉科,徐汇区,true,3,13916000033,,,sh-yk-fy:1997-09-01:,
SH-E0034,上海市,董立峰,副主任医师,麻醉科,黄浦区,true,3,13916000034,,,sh-mq-main:2009-07-01:,
SH-E0035,上海市,袁志华,主任医师,麻醉科;重症医学科,浦东新区,true,3,13916000035,,,sh-zx:2002-07-01:,
SH-E0036,上海市,潘静怡,副主任医师,麻醉科,闵行区,true,3,13916000036,,,sh-yk-ek:2012-07-01:,
SH-E0037,上海市,蒋文杰,律师,法学,静安区,true,3,13916000037,,,sh-ls:2005-03-01:,
SH-E0038,上海市,蔡明辉,教授,法学,松江区,true,3,13916000038,,,sh-zf:2000-09-01:,
SH-E0039,上海市,贾晓红,律师,法学,黄浦区,true,3,13916000039,,,sh-ls:2010-06-01:,
SH-E0040,上海市,丁一凡,副教授,法学,松江区,true,3,13916000040,,,sh-zf:2012-09-01:,
SH-E0041,上海市,魏国栋,律师,法学,静安区,true,2,13916000041,,,sh-mq-main:2008-01-01:2021-12-31;sh-ls:2022-01-01:,
SH-E0042,上海市,薛丽,律师,法学,徐汇区,true,3,13916000042,,,sh-ls:2015-09-01:,
SH-E0043,上海市,叶建民,主任法医师,法医学,普陀区,true,3,13916000043,,,sh-sj:1995-07-01:,
SH-E0044,上海市,阎振宇,副主任法医师,法医学,普陀区,true,3,13916000044,,,sh-sj:2008-07-01:,
SH-E0045,上海市,余佩华,教授,法医学,徐汇区,true,3,13916000045,,,sh-yk:2001-09-01:,
SH-E0046,上海市,杜海滨,主任法医师,法医学;病理科,普陀区,true,3,13916000046,,,sh-sj:1999-07-01:,
SH-E0047,上海市,程晓玲,主任药师,药学,徐汇区,true,3,13916000047,,,sh-yk-fy:2000-07-01:,
SH-E0048,上海市,苏文静,副主任药师,药学,黄浦区,true,3,13916000048,,,sh-mq-main:2010-07-01:,
SH-E0049,上海市,卢永祥,教授,药学,徐汇区,true,3,13916000049,,,sh-yk:1998-09-01:,
SH-E0050,上海市,蒋玉梅,主任药师,药学,浦东新区,true,3,13916000050,,,sh-zx:2005-07-01:,
SH-E0051,上海市,沈佳,主任护师,护理学,徐汇区,true,3,13916000051,,,sh-yk-fy:1996-07-01:,
SH-E0052,上海市,任丽华,副主任护师,护理学,黄浦区,true,3,13916000052,,,sh-mq-east:2007-07-01:,
SH-E0053,上海市,姚芳,主任护师,护理学,闵行区,true,3,13916000053,,,sh-yk-ek:2002-07-01:,
SH-E0054,上海市,汪美玲,副教授,护理学,徐汇区,true,3,13916000054,,,sh-yk:2011-09-01:,
SH-E0055,上海市,金海燕,主任医师,心理学;精神科,徐汇区,true,3,13916000055,,,sh-jw:1999-07-01:,
SH-E0056,上海市,石磊,副主任医师,心理学,徐汇区,true,3,13916000056,,,sh-jw:2010-07-01:,
SH-E0057,上海市,范晓蕾,副教授,心理学,徐汇区,true,3,13916000057,,,sh-yk:2013-09-01:,
SH-E0058,上海市,方俊,心理咨询师,心理学,浦东新区,true,3,13916000058,,,sh-zx:2016-07-01:,
SH-E0059,上海市,陆建国,主任医师,产科;妇科,普陀区,true,3,13916000059,,,sh-mq-main:1993-07-01:2020-06-30;sh-zx:2020-07-01:,
SH-E0060,上海市,钱文涛,主任医师,普通外科;麻醉科,长宁区,true,3,13916000060,,,sh-fy:2003-07-01:,
"""


def seed_pool(*, session: Session) -> int:
    """Add the demo group, institutions and experts that are missing; existing ones are left as they are.
    Returns how many experts were added."""
    if session.get(InstitutionGroup, GROUP.id) is None:
        session.add(InstitutionGroup.model_validate(GROUP.model_dump()))
        session.flush()
    for row in INSTITUTIONS:
        if session.get(Institution, row.id) is None:
            session.add(Institution(id=row.id, name=row.name, city=row.city, group_id=row.group_id,
                                    address=row.address))
    session.flush()
    parsed = parse_pool_csv(POOL_CSV)
    if parsed.errors:  # pragma: no cover - the demo data is checked by the tests
        raise ValueError("; ".join(str(e) for e in parsed.errors))
    present = set(session.exec(select(Expert.id).where(col(Expert.id).in_([r.id for r in parsed.rows]))))
    missing = [r for r in parsed.rows if r.id not in present]
    return repo_pool.import_experts(session=session, rows=missing).imported
