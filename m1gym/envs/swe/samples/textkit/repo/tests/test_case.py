from textkit import snake_case, title_case


def test_title_case():
    assert title_case("hello wORLD") == "Hello World"


def test_snake_case():
    assert snake_case("HelloWorld") == "hello_world"
