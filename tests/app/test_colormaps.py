"""The image colour maps run low → high as DS9 and CARTA draw them: "gray" puts the brightest pixel in white."""
from app.pages.cubes.image_view import COLORMAPS


def _lightness(hex_colour: str) -> int:
    return sum(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def test_gray_draws_high_values_white_and_the_inverted_one_black():
    assert _lightness(COLORMAPS["gray"][-1]) > _lightness(COLORMAPS["gray"][0])
    assert COLORMAPS["gray"][-1].lower() == "#ffffff" and COLORMAPS["gray (inverted)"][-1].lower() == "#000000"
