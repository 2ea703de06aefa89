"""The controlled vocabulary of the expert pool (Reg 35): clinical departments, plus law, forensic medicine,
pharmacy, nursing and psychology (Shanghai adds psychology). Codes are stored; labels are what users see."""

from __future__ import annotations

CLINICAL: dict[str, str] = {
    "internal_medicine": "内科",
    "cardiology": "心血管内科",
    "respiratory": "呼吸内科",
    "gastroenterology": "消化内科",
    "neurology": "神经内科",
    "nephrology": "肾内科",
    "endocrinology": "内分泌科",
    "hematology": "血液科",
    "infectious_diseases": "感染科",
    "general_surgery": "普通外科",
    "orthopedics": "骨科",
    "neurosurgery": "神经外科",
    "cardiothoracic_surgery": "心胸外科",
    "urology": "泌尿外科",
    "plastic_surgery": "整形外科",
    "obstetrics": "产科",
    "gynecology": "妇科",
    "pediatrics": "儿科",
    "neonatology": "新生儿科",
    "oncology": "肿瘤科",
    "emergency": "急诊科",
    "critical_care": "重症医学科",
    "anesthesiology": "麻醉科",
    "ophthalmology": "眼科",
    "otolaryngology": "耳鼻咽喉科",
    "stomatology": "口腔科",
    "dermatology": "皮肤科",
    "psychiatry": "精神科",
    "rehabilitation": "康复医学科",
    "radiology": "医学影像科",
    "laboratory_medicine": "检验科",
    "pathology": "病理科",
    "traditional_chinese_medicine": "中医科",
    "general_practice": "全科医学科",
}

NON_CLINICAL: dict[str, str] = {
    "law": "法学",
    "forensic_medicine": "法医学",
    "pharmacy": "药学",
    "nursing": "护理学",
    "psychology": "心理学",
}

SPECIALTIES: dict[str, str] = {**CLINICAL, **NON_CLINICAL}


def label(code: str) -> str:
    return SPECIALTIES[code]
