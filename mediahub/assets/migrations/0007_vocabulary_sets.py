"""Two tag vocabularies: the test-pattern world's colours and shapes for the demo model, and a
newsroom vocabulary for real models (English and Chinese names, several phrasings x templates).

Self-contained: the data is inline and nothing from the application is imported. Admins edit
both afterwards in Django admin (Assets > Tag labels).
"""

from django.db import migrations, models

DEMO, NEWSROOM = "demo", "newsroom"

# Prompt templates: every English phrasing goes through each English template and every Chinese
# phrasing through each Chinese one; the label's vector is the normalised mean of all of them.
EN_TEMPLATES = ("a photo of {}", "a news video still of {}", "{}")
ZH_TEMPLATES = ("{}的照片", "新闻画面：{}")

# group -> [(English name, Chinese name, English phrasings, Chinese phrasings)]; the first
# phrasing of each language is the name itself unless given.
NEWSROOM_LABELS = {
    "event": [
        ("press conference", "新闻发布会", ["a speaker at a podium with microphones"], ["发布会"]),
        ("protest", "抗议", ["protesters holding signs and banners", "a street demonstration"], ["示威游行"]),
        ("riot", "骚乱", ["rioters clashing with riot police"], ["街头冲突"]),
        ("march", "游行", ["people marching along a street"], []),
        ("flood", "洪水", ["flooded streets with water over the road"], ["水灾"]),
        ("fire", "火灾", ["flames and smoke from a burning building"], ["大火"]),
        ("wildfire", "山火", ["a forest fire with flames on a hillside"], ["森林火灾"]),
        ("explosion", "爆炸", ["a blast with a cloud of smoke and debris"], []),
        ("traffic accident", "交通事故", ["damaged cars after a crash on a road"], ["车祸"]),
        ("earthquake damage", "地震灾害", ["collapsed buildings and rubble after an earthquake"], ["地震废墟"]),
        ("landslide", "山体滑坡", ["mud and rocks covering a road after a landslide"], ["泥石流"]),
        ("rescue operation", "救援行动", ["rescuers searching through rubble"], ["搜救"]),
        ("parliament session", "议会会议", ["politicians debating in a legislative chamber"], ["国会"]),
        ("court hearing", "庭审", ["a judge and lawyers in a courtroom"], ["法庭审判"]),
        ("sports match", "体育比赛", ["athletes competing in a stadium"], ["比赛"]),
        ("football match", "足球比赛", ["footballers playing on a pitch"], []),
        ("basketball game", "篮球比赛", ["basketball players on a court"], []),
        ("running race", "赛跑", ["runners in a marathon race"], ["马拉松"]),
        ("election count", "计票", ["officials counting ballot papers"], ["选举计票"]),
        ("voting", "投票", ["a voter putting a ballot into a ballot box"], ["选民投票"]),
        ("interview", "采访", ["a person being interviewed in front of a camera"], ["访谈"]),
        ("speech", "演讲", ["a politician giving a speech to an audience"], ["讲话"]),
        ("crowd", "人群", ["a large crowd of people gathered outdoors"], ["人山人海"]),
        ("queue", "排队", ["people standing in a long line"], ["排长队"]),
        ("meeting", "会议", ["people sitting around a conference table"], ["开会"]),
        ("signing ceremony", "签字仪式", ["officials signing an agreement at a table"], ["签约仪式"]),
        ("award ceremony", "颁奖典礼", ["a winner receiving an award on stage"], []),
        ("concert", "音乐会", ["musicians performing on a stage with lights"], ["演唱会"]),
        ("parade", "阅兵", ["a military parade with soldiers marching"], ["阅兵式"]),
        ("festival", "节日庆典", ["people celebrating a festival in the street"], ["庆祝活动"]),
        ("funeral", "葬礼", ["mourners at a funeral"], ["悼念"]),
        ("wedding", "婚礼", ["a bride and groom at a wedding"], []),
        ("religious service", "宗教仪式", ["people praying at a religious service"], ["礼拜"]),
        ("police operation", "警方行动", ["police officers cordoning off a scene"], ["警察执法"]),
        ("arrest", "逮捕", ["police arresting a person in handcuffs"], ["被捕"]),
        ("military exercise", "军事演习", ["soldiers and armoured vehicles on exercise"], ["军演"]),
        ("war damage", "战争破坏", ["bombed and destroyed buildings in a war zone"], ["战火废墟"]),
        ("refugees", "难民", ["refugees carrying their belongings"], ["难民潮"]),
        ("border crossing", "边境口岸", ["people and vehicles at a border checkpoint"], ["过境"]),
        ("medical treatment", "医疗救治", ["doctors treating a patient"], ["看病"]),
        ("vaccination", "接种疫苗", ["a nurse giving an injection to a person"], ["打疫苗"]),
        ("lesson", "上课", ["a teacher in front of pupils in a classroom"], ["课堂教学"]),
        ("construction work", "施工", ["workers and cranes on a building site"], ["建筑施工"]),
        ("factory work", "工厂生产", ["workers on a factory production line"], ["生产线"]),
        ("harvest", "收割", ["farmers harvesting crops in a field"], ["丰收"]),
        ("shopping", "购物", ["people shopping in a store"], ["逛街"]),
        ("trade fair", "展会", ["visitors at exhibition stands in a hall"], ["博览会"]),
        ("stock market", "股市", ["traders and stock prices on screens"], ["证券交易所"]),
        ("traffic jam", "交通堵塞", ["cars stuck in heavy traffic"], ["堵车"]),
        ("space launch", "火箭发射", ["a rocket lifting off from a launch pad"], []),
    ],
    "place": [
        ("harbour", "港口", ["ships moored in a harbour"], ["码头"]),
        ("container port", "集装箱码头", ["stacked shipping containers and cranes"], []),
        ("airport", "机场", ["airplanes at an airport terminal"], ["航站楼"]),
        ("train station", "火车站", ["a train at a railway platform"], ["车站站台"]),
        ("subway", "地铁", ["passengers in an underground metro station"], ["地铁站"]),
        ("city street", "城市街道", ["people walking on a busy city street"], ["街头"]),
        ("highway", "高速公路", ["cars driving on a motorway"], ["公路"]),
        ("bridge", "桥梁", ["a large bridge over a river"], ["大桥"]),
        ("city skyline", "城市天际线", ["tall buildings of a city skyline"], ["高楼大厦"]),
        ("residential area", "居民区", ["apartment blocks in a residential neighbourhood"], ["住宅小区"]),
        ("village", "村庄", ["houses in a small rural village"], ["农村"]),
        ("farmland", "农田", ["crops growing in fields"], ["田野"]),
        ("forest", "森林", ["trees in a dense forest"], ["树林"]),
        ("mountains", "山区", ["a mountain landscape"], ["高山"]),
        ("beach", "海滩", ["waves on a sandy beach"], ["沙滩"]),
        ("sea", "大海", ["the open sea"], ["海面"]),
        ("river", "河流", ["a river flowing through the landscape"], ["江河"]),
        ("lake", "湖泊", ["a calm lake"], ["湖"]),
        ("desert", "沙漠", ["sand dunes in a desert"], []),
        ("park", "公园", ["people in a green city park"], []),
        ("public square", "广场", ["a large public square"], ["城市广场"]),
        ("office", "办公室", ["desks and computers in an office"], ["办公场所"]),
        ("tv studio", "电视演播室", ["a news presenter in a television studio"], ["演播厅"]),
        ("courtroom", "法庭", ["the inside of a courtroom"], ["法院"]),
        ("parliament", "议会大厦", ["the chamber of a parliament"], ["议会厅"]),
        ("government building", "政府大楼", ["the facade of a government building"], ["政府机关"]),
        ("hospital ward", "病房", ["patients in beds on a hospital ward"], ["医院病房"]),
        ("hospital", "医院", ["the entrance of a hospital"], []),
        ("laboratory", "实验室", ["scientists working in a laboratory"], []),
        ("classroom", "教室", ["desks and a blackboard in a classroom"], []),
        ("university campus", "大学校园", ["students on a university campus"], ["校园"]),
        ("library", "图书馆", ["shelves of books in a library"], []),
        ("church", "教堂", ["the inside of a church"], []),
        ("temple", "寺庙", ["a buddhist temple"], ["庙宇"]),
        ("mosque", "清真寺", ["a mosque with a minaret"], []),
        ("stadium", "体育场", ["a sports stadium with spectators"], ["体育馆"]),
        ("shopping mall", "商场", ["shops inside a shopping mall"], ["购物中心"]),
        ("supermarket", "超市", ["shelves of goods in a supermarket"], []),
        ("market", "集市", ["stalls at an open-air market"], ["菜市场"]),
        ("restaurant", "餐厅", ["people eating in a restaurant"], ["饭店"]),
        ("kitchen", "厨房", ["cooking in a kitchen"], []),
        ("living room", "客厅", ["a sofa in a living room"], ["家中"]),
        ("factory", "工厂", ["machines in a factory hall"], ["厂房"]),
        ("construction site", "建筑工地", ["cranes and scaffolding on a construction site"], ["工地"]),
        ("power plant", "发电厂", ["cooling towers of a power station"], ["电厂"]),
        ("wind farm", "风电场", ["wind turbines on a hill"], ["风力发电"]),
        ("solar farm", "太阳能电站", ["rows of solar panels"], ["光伏电站"]),
        ("oil refinery", "炼油厂", ["pipes and chimneys of an oil refinery"], []),
        ("prison", "监狱", ["prison walls and barbed wire"], []),
        ("military base", "军事基地", ["military vehicles at a base"], ["军营"]),
        ("refugee camp", "难民营", ["rows of tents in a refugee camp"], []),
        ("parking lot", "停车场", ["rows of parked cars"], []),
    ],
    "weather": [
        ("sunny weather", "晴天", ["a clear blue sky and sunshine"], ["阳光明媚"]),
        ("cloudy weather", "阴天", ["a grey overcast sky"], ["多云"]),
        ("rain", "下雨", ["rain falling on a street", "people with umbrellas in the rain"], ["雨天"]),
        ("snow", "下雪", ["snow covering the ground", "snow falling"], ["雪景"]),
        ("fog", "雾", ["a foggy landscape with low visibility"], ["大雾"]),
        ("storm", "暴风雨", ["strong wind and heavy rain in a storm"], ["风暴"]),
        ("lightning", "闪电", ["a lightning bolt in a dark sky"], ["雷电"]),
        ("typhoon", "台风", ["palm trees bending in a typhoon"], ["飓风"]),
        ("hail", "冰雹", ["hailstones on the ground"], []),
        ("drought", "干旱", ["dry cracked earth in a drought"], ["旱灾"]),
        ("ice", "冰冻", ["frozen ice and icicles"], ["结冰"]),
        ("smog", "雾霾", ["a city covered in smog"], ["空气污染"]),
        ("sandstorm", "沙尘暴", ["a wall of dust in a sandstorm"], []),
        ("rainbow", "彩虹", ["a rainbow in the sky"], []),
    ],
    "light": [
        ("daylight", "白天", ["a scene in bright daylight"], ["日间"]),
        ("night", "夜晚", ["a dark night scene with lights"], ["夜景"]),
        ("sunrise", "日出", ["the sun rising over the horizon"], ["清晨"]),
        ("sunset", "日落", ["the sun setting with an orange sky"], ["黄昏"]),
        ("street lights", "路灯", ["a street lit by street lamps at night"], ["夜间街灯"]),
        ("indoor lighting", "室内灯光", ["a room lit by lamps"], ["室内"]),
        ("silhouette", "剪影", ["a dark silhouette against a bright background"], ["逆光"]),
        ("fireworks", "烟花", ["fireworks exploding in the night sky"], ["焰火"]),
        ("candlelight", "烛光", ["candles burning in the dark"], ["蜡烛"]),
    ],
    "shot": [
        ("aerial view", "航拍", ["an aerial view from a drone", "a view from high above"], ["俯瞰画面"]),
        ("close-up", "特写", ["a close-up shot of a face", "a close-up"], ["特写镜头"]),
        ("extreme close-up", "大特写", ["an extreme close-up of an eye"], []),
        ("wide shot", "远景", ["a wide shot of a landscape", "a wide establishing shot"], ["全景"]),
        ("medium shot", "中景", ["a medium shot of a person from the waist up"], ["中景镜头"]),
        ("low-angle shot", "仰拍", ["a low-angle shot looking up"], ["仰视镜头"]),
        ("high-angle shot", "俯拍", ["a high-angle shot looking down"], ["俯视镜头"]),
        ("over-the-shoulder shot", "过肩镜头", ["an over-the-shoulder shot of a conversation"], []),
        ("on-screen graphics", "图文画面", ["a map or a chart with text on screen"], ["字幕图表"]),
        ("split screen", "分屏", ["a split screen showing two people"], ["画中画"]),
        ("black screen", "黑屏", ["a completely black frame"], ["黑场"]),
    ],
    "people": [
        ("politician", "政治人物", ["a politician in a suit"], ["政客"]),
        ("reporter", "记者", ["a reporter holding a microphone talking to camera"], ["出镜记者"]),
        ("news presenter", "新闻主播", ["a news anchor at a desk"], ["主持人"]),
        ("police officers", "警察", ["police officers in uniform"], ["民警"]),
        ("soldiers", "士兵", ["soldiers in combat uniform"], ["军人"]),
        ("firefighters", "消防员", ["firefighters with hoses"], []),
        ("doctors and nurses", "医护人员", ["doctors and nurses in scrubs"], ["医生和护士"]),
        ("children", "儿童", ["children playing"], ["孩子们"]),
        ("elderly people", "老人", ["elderly people"], ["老年人"]),
        ("students", "学生", ["students in a classroom"], []),
        ("workers", "工人", ["workers in hard hats"], []),
        ("farmers", "农民", ["farmers working in a field"], []),
        ("athletes", "运动员", ["athletes in sportswear"], []),
        ("musicians", "音乐家", ["musicians playing instruments"], ["乐队"]),
        ("business people", "商务人士", ["business people in an office"], ["白领"]),
        ("a family", "一家人", ["a family at home"], ["家庭"]),
    ],
    "vehicle": [
        ("car", "汽车", ["a car on the road"], ["轿车"]),
        ("bus", "公交车", ["a city bus"], ["巴士"]),
        ("truck", "卡车", ["a lorry on the road"], ["货车"]),
        ("train", "火车", ["a passenger train"], ["列车"]),
        ("high-speed train", "高铁", ["a high-speed bullet train"], ["动车"]),
        ("airplane", "飞机", ["an airliner in the sky"], ["客机"]),
        ("helicopter", "直升机", ["a helicopter flying"], []),
        ("ship", "轮船", ["a large ship at sea"], ["船舶"]),
        ("boat", "小船", ["a small boat on the water"], ["船只"]),
        ("bicycle", "自行车", ["a person riding a bicycle"], ["单车"]),
        ("motorcycle", "摩托车", ["a motorbike on the street"], []),
        ("tank", "坦克", ["a military tank"], []),
        ("ambulance", "救护车", ["an ambulance with flashing lights"], []),
        ("police car", "警车", ["a police car with its lights on"], []),
        ("fire engine", "消防车", ["a red fire truck"], []),
        ("tractor", "拖拉机", ["a tractor in a field"], []),
    ],
    "animal": [
        ("dog", "狗", ["a dog"], ["小狗"]),
        ("cat", "猫", ["a cat"], ["小猫"]),
        ("horse", "马", ["a horse"], []),
        ("cattle", "牛", ["cows in a field"], ["牛群"]),
        ("sheep", "羊", ["a flock of sheep"], ["羊群"]),
        ("birds", "鸟", ["birds flying"], ["鸟群"]),
        ("fish", "鱼", ["fish in the water"], []),
        ("wild animals", "野生动物", ["wild animals in nature"], []),
        ("panda", "熊猫", ["a giant panda"], ["大熊猫"]),
    ],
    "object": [
        ("flag", "旗帜", ["a national flag waving"], ["国旗"]),
        ("microphones", "话筒", ["a bank of microphones"], ["麦克风"]),
        ("smartphone", "手机", ["a person using a smartphone"], ["智能手机"]),
        ("computer screen", "电脑屏幕", ["a computer monitor"], ["电脑"]),
        ("banknotes", "钞票", ["a pile of banknotes"], ["现金"]),
        ("documents", "文件", ["papers and documents on a desk"], []),
        ("ballot box", "投票箱", ["a transparent ballot box"], ["票箱"]),
        ("weapons", "武器", ["guns and rifles"], ["枪支"]),
        ("placards", "标语牌", ["protest placards with slogans"], ["横幅"]),
        ("food", "食物", ["a plate of food"], ["美食"]),
        ("medicine", "药品", ["pills and medicine packs"], ["药物"]),
        ("smoke", "浓烟", ["thick smoke rising into the sky"], ["烟雾"]),
        ("rubble", "瓦砾", ["piles of rubble and debris"], ["废墟"]),
        ("tents", "帐篷", ["tents pitched on the ground"], []),
        ("map", "地图", ["a map"], []),
    ],
}

# The test-pattern world (CONTRACT.md section 5), for the demo model only.
DEMO_COLOURS = [("red", "红色"), ("green", "绿色"), ("blue", "蓝色"), ("yellow", "黄色"),
                ("purple", "紫色"), ("orange", "橙色"), ("white", "白色"), ("black", "黑色")]
DEMO_SHAPES = [("circle", "圆形"), ("square", "正方形"), ("triangle", "三角形"), ("star", "星形"),
               ("cross", "十字"), ("diamond", "菱形")]


def prompt_lines(name: str, name_zh: str, english: list[str], chinese: list[str]) -> str:
    lines = [template.format(phrase) for phrase in [name, *english] for template in EN_TEMPLATES]
    lines += [template.format(phrase) for phrase in [name_zh, *chinese] for template in ZH_TEMPLATES]
    return "\n".join(dict.fromkeys(lines))


def newsroom_labels():
    for group, labels in NEWSROOM_LABELS.items():
        for name, name_zh, english, chinese in labels:
            yield {"vocabulary": NEWSROOM, "name": name, "name_zh": name_zh, "group": group,
                   "prompts": prompt_lines(name, name_zh, english, chinese)}


def demo_labels():
    for name, zh in DEMO_COLOURS:
        yield {"vocabulary": DEMO, "name": name, "name_zh": zh, "group": "colour", "prompts": f"something {name}\na {name} shape"}
    for name, zh in DEMO_SHAPES:
        yield {"vocabulary": DEMO, "name": name, "name_zh": zh, "group": "shape", "prompts": f"{name}\na {name}"}


def add_labels(apps, schema_editor):
    TagLabel = apps.get_model("assets", "TagLabel")
    demo_names = {label["name"] for label in demo_labels()}
    # The colours and shapes seeded by 0002 belong to the demo model's world.
    TagLabel.objects.filter(name__in=demo_names, group__in=["colour", "shape"]).update(vocabulary=DEMO)
    # 0002's few news scenes are superseded by the newsroom set (admins' own labels are kept).
    TagLabel.objects.filter(group="scene", vocabulary=NEWSROOM, name__in=OLD_SCENES).delete()
    for label in [*demo_labels(), *newsroom_labels()]:
        TagLabel.objects.update_or_create(vocabulary=label["vocabulary"], name=label["name"], defaults=label)


OLD_SCENES = ["crowd", "protest", "press conference", "interview", "police", "fire", "flood", "storm", "snow",
              "traffic", "car accident", "aircraft", "ship", "city skyline", "street", "aerial view", "night",
              "sports", "military", "hospital", "courtroom", "parliament", "nature", "beach", "animals",
              "map or graphics"]


class Migration(migrations.Migration):
    dependencies = [("assets", "0006_fulltext_index")]
    operations = [
        # Adding the indexed column refuses to run while the transaction owes deferred foreign-key checks.
        migrations.RunSQL("SET CONSTRAINTS ALL IMMEDIATE", migrations.RunSQL.noop),
        migrations.AlterField("taglabel", "name", models.CharField(help_text="English label shown to users.", max_length=100)),
        migrations.AddField("taglabel", "vocabulary", models.CharField(
            choices=[(DEMO, "Test-pattern world (demo model)"), (NEWSROOM, "Newsroom (real models)")],
            default=NEWSROOM, db_index=True, max_length=20,
            help_text="The set this label belongs to: only the active model's set is used for tagging and search.")),
        migrations.AddConstraint("taglabel", models.UniqueConstraint(fields=["vocabulary", "name"],
                                                                      name="taglabel_unique_vocabulary_name")),
        migrations.RunPython(add_labels, migrations.RunPython.noop),
    ]
