"""The default zero-shot tag vocabulary: newsroom scenes, plus the test-pattern world's colours and shapes.

Editable afterwards in the admin (Assets › Tag labels)."""

from django.db import migrations

SCENES = [
    ("crowd", "人群", "a photo of a crowd of people\na large crowd gathered outdoors"),
    ("protest", "抗议", "a photo of a street protest\nprotesters holding signs and banners"),
    ("press conference", "新闻发布会", "a photo of a press conference\na person speaking at a podium with microphones"),
    ("interview", "采访", "a photo of a TV interview\na person being interviewed in front of a camera"),
    ("police", "警察", "a photo of police officers\npolice cars and officers at a scene"),
    ("fire", "火灾", "a photo of a fire\nflames and smoke from a burning building"),
    ("flood", "洪水", "a photo of a flood\nflooded streets with water over the road"),
    ("storm", "风暴", "a photo of a storm\nstrong wind and heavy rain during a storm"),
    ("snow", "雪", "a photo of a snowy scene\nsnow covering the ground"),
    ("traffic", "交通", "a photo of road traffic\ncars driving on a busy road"),
    ("car accident", "车祸", "a photo of a car accident\ndamaged cars after a crash"),
    ("aircraft", "飞机", "a photo of an airplane\nan aircraft at an airport"),
    ("ship", "船", "a photo of a ship at sea\na boat on the water"),
    ("city skyline", "城市天际线", "a photo of a city skyline\ntall buildings of a city"),
    ("street", "街道", "a photo of a city street\npeople walking on a street"),
    ("aerial view", "航拍", "an aerial photo taken by a drone\na view from above"),
    ("night", "夜景", "a photo taken at night\na dark night scene with lights"),
    ("sports", "体育", "a photo of a sports match\nathletes competing in a stadium"),
    ("military", "军事", "a photo of soldiers\nmilitary vehicles and troops"),
    ("hospital", "医院", "a photo of a hospital\ndoctors and nurses in a hospital"),
    ("courtroom", "法庭", "a photo of a courtroom\na judge in a court room"),
    ("parliament", "议会", "a photo of a parliament session\npoliticians in a legislative chamber"),
    ("nature", "自然", "a photo of nature\nforest, fields and mountains"),
    ("beach", "海滩", "a photo of a beach\nwaves on a sandy beach"),
    ("animals", "动物", "a photo of animals\nan animal in the wild"),
    ("map or graphics", "地图或图表", "a map\non-screen graphics and text"),
]

COLOURS = [("red", "红色"), ("green", "绿色"), ("blue", "蓝色"), ("yellow", "黄色"),
           ("purple", "紫色"), ("orange", "橙色"), ("white", "白色"), ("black", "黑色")]
SHAPES = [("circle", "圆形"), ("square", "正方形"), ("triangle", "三角形"), ("star", "星形"),
          ("cross", "十字"), ("diamond", "菱形")]


def default_labels():
    for name, zh, prompts in SCENES:
        yield {"name": name, "name_zh": zh, "group": "scene", "prompts": prompts}
    for name, zh in COLOURS:
        yield {"name": name, "name_zh": zh, "group": "colour", "prompts": f"something {name}\na {name} shape"}
    for name, zh in SHAPES:
        yield {"name": name, "name_zh": zh, "group": "shape", "prompts": f"{name}\na {name}"}


def add_labels(apps, schema_editor):
    TagLabel = apps.get_model("assets", "TagLabel")
    for label in default_labels():
        TagLabel.objects.update_or_create(name=label["name"], defaults=label)


def remove_labels(apps, schema_editor):
    TagLabel = apps.get_model("assets", "TagLabel")
    TagLabel.objects.filter(name__in=[label["name"] for label in default_labels()]).delete()


class Migration(migrations.Migration):
    dependencies = [("assets", "0001_initial")]
    operations = [migrations.RunPython(add_labels, remove_labels)]
