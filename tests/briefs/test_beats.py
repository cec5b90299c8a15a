"""Cutting a brief into beats: lines, sentences, Chinese punctuation, blank lines."""

from mediahub.briefs.beats import beats_split


def test_every_non_empty_line_is_a_beat_and_blank_lines_are_skipped():
    text = "Flood waters cover the main bridge\n\n   \nResidents queue for sandbags\r\n\tThe mayor speaks  to reporters  \n"
    assert beats_split(text) == ["Flood waters cover the main bridge", "Residents queue for sandbags",
                                 "The mayor speaks to reporters"]


def test_a_line_of_several_sentences_becomes_a_beat_per_sentence():
    assert beats_split("Flood waters cover the main bridge. Residents queue for sandbags! Who pays? Nobody knows.") == [
        "Flood waters cover the main bridge.", "Residents queue for sandbags!", "Who pays?", "Nobody knows."]


def test_chinese_sentences_split_at_chinese_punctuation_without_spaces():
    assert beats_split("洪水淹没了大桥。居民排队领取沙袋！市长会来吗？") == ["洪水淹没了大桥。", "居民排队领取沙袋！", "市长会来吗？"]


def test_a_quotation_stays_with_its_sentence():
    assert beats_split('市长说：“我们会挺过去。”记者提问。') == ['市长说：“我们会挺过去。”', "记者提问。"]
    assert beats_split('He said "We will rebuild." Crowds cheer.') == ['He said "We will rebuild."', "Crowds cheer."]


def test_abbreviations_initials_and_numbers_do_not_end_a_sentence():
    assert beats_split("Mr. Smith and Dr. J. Jones of the U.S. Army inspect the 3.5 m wall. Rain returns.") == [
        "Mr. Smith and Dr. J. Jones of the U.S. Army inspect the 3.5 m wall.", "Rain returns."]


def test_a_full_stop_before_lower_case_text_does_not_split():
    assert beats_split("Water rises to approx. two metres near the bridge") == [
        "Water rises to approx. two metres near the bridge"]


def test_mixed_english_and_chinese_lines():
    assert beats_split("A yellow star on a black background. 蓝色背景上的红色圆形。\nA red circle") == [
        "A yellow star on a black background.", "蓝色背景上的红色圆形。", "A red circle"]


def test_text_without_content_has_no_beats():
    assert beats_split(" \n\n\t \n") == []
