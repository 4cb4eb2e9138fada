//! The drawing backend of every graph: plotters' bitmap backend, with text laid out glyph by
//! glyph at its pen position.
//!
//! Why not plotters' own text: its `ab_glyph` font (plotters 0.3.7, `style/font/ab_glyph.rs`)
//! rasterizes each glyph at the origin and pastes the bitmap at the integer part of the pen
//! position, dropping the glyph's left side bearing (`px_bounds().min.x`) and the pen's fraction.
//! Glyphs with a bearing of a pixel or more (`k`, `p`, `r`, `l`, `n` in Noto Sans at 15–17 px)
//! land a pixel left of their place, so the gaps after them widen: "tick s p er r un". It also
//! puts the baseline half a size below the top of the text's box, so labels sit ~2 px above the
//! tick they name. [`Canvas`] overrides the backend's `draw_text`: each glyph is outlined at its
//! exact (fractional) pen position on a baseline that centres the font's line in the box, and
//! rasterized there.
//!
//! The box itself (`estimate_text_size`) is what plotters' font measures, the sum of advances
//! and kerning, `size / 1.24` high, so plotters' layout, which also measures some text through
//! the font (legends), agrees with what is drawn.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// Plotters' bitmap backend, drawing text with [`layout`]; everything else is the bitmap
/// backend's own.
pub(super) struct Canvas<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

type BitMapError = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

impl<'a> Canvas<'a> {
    /// Draws into `inner`, with `font` for every text element (the graphs register only one
    /// family, and plotters' layout measured the text with it).
    pub(super) fn new(inner: BitMapBackend<'a>, font: FontRef<'static>) -> Self {
        Canvas { inner, font }
    }
}

/// Where each glyph of `text` goes, in pixels from the top left of its box: `(glyph, x, y)` of
/// the pen on the baseline, kerning applied. Also the box's width (advances and kerning summed,
/// as plotters' font measures it).
fn layout(font: &FontRef<'static>, size: f64, text: &str) -> (Vec<ab_glyph::Glyph>, f32) {
    let scaled = font.as_scaled(PxScale::from(size as f32));
    // The box is `size / 1.24` high (plotters' measure); the font's line (ascent to descent,
    // `size` px at this scale) is centred on it, so digits centre on a tick.
    let box_height = (size / 1.24) as f32;
    let baseline = (box_height + scaled.ascent() + scaled.descent()) / 2.0;
    let mut pen = 0.0_f32;
    let mut previous = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(previous) = previous {
            pen += scaled.kern(previous, id);
        }
        glyphs.push(id.with_scale_and_position(scaled.scale(), point(pen, baseline)));
        pen += scaled.h_advance(id);
        previous = Some(id);
    }
    (glyphs, pen)
}

impl DrawingBackend for Canvas<'_> {
    type ErrorType = BitMapError;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (_, width) = layout(&self.font, style.size(), text);
        Ok((width as u32, (style.size() / 1.24) as u32))
    }

    /// As the default `draw_text` (anchor, then rotation about the anchor point), but each
    /// glyph rasterized at its own pen position (see the module docs).
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (width, height) = self.estimate_text_size(text, style)?;
        let (width, height) = (width as i32, height as i32);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (glyphs, _) = layout(&self.font, style.size(), text);
        let mut result = Ok(());
        for glyph in glyphs {
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue; // a space
            };
            let bounds = outline.px_bounds();
            let (left, top) = (bounds.min.x as i32, bounds.min.y as i32);
            outline.draw(|x, y, coverage| {
                if result.is_err() || coverage <= 0.0 {
                    return;
                }
                let (x, y) = transform.transform(left + x as i32 + dx, top + y as i32 + dy);
                let pixel = BackendColor {
                    alpha: color.alpha * f64::from(coverage.min(1.0)),
                    rgb: color.rgb,
                };
                // The bitmap backend ignores pixels outside the image.
                result = self.inner.draw_pixel((pos.0 + x, pos.1 + y), pixel);
            });
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use plotters::style::text_anchor::Pos;

    const SIZE: (u32, u32) = (400, 40);

    fn font() -> FontRef<'static> {
        FontRef::try_from_slice(ttf_noto_sans::REGULAR).unwrap()
    }

    /// The darkness of each pixel (0 white, 255 black) after drawing `text` in black at `at`,
    /// anchored by `anchor`, onto white, by the [`Canvas`] or by plotters' bitmap backend.
    fn ink(text: &str, size: f64, at: (i32, i32), anchor: Pos, canvas: bool) -> Vec<Vec<u8>> {
        super::super::register_font_once().unwrap();
        let mut buffer = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let bitmap = BitMapBackend::with_buffer(&mut buffer, SIZE);
            let style = TextStyle::from((super::super::FONT, size).into_font())
                .color(&BLACK)
                .pos(anchor);
            if canvas {
                let area = Canvas::new(bitmap, font()).into_drawing_area();
                area.draw(&Text::new(text, at, style)).unwrap();
                area.present().unwrap();
            } else {
                let area = bitmap.into_drawing_area();
                area.draw(&Text::new(text, at, style)).unwrap();
                area.present().unwrap();
            }
        }
        (0..SIZE.1 as usize)
            .map(|y| {
                (0..SIZE.0 as usize)
                    .map(|x| 255 - buffer[(y * SIZE.0 as usize + x) * 3])
                    .collect()
            })
            .collect()
    }

    /// The darkness of each column.
    fn columns(text: &str, size: f64, canvas: bool) -> Vec<u32> {
        let ink = ink(
            text,
            size,
            (10, 10),
            Pos::new(HPos::Left, VPos::Top),
            canvas,
        );
        (0..SIZE.0 as usize)
            .map(|x| ink.iter().map(|row| u32::from(row[x])).sum())
            .collect()
    }

    /// Each glyph's ink starts in the pixel holding its outline's left edge: pen position plus
    /// left side bearing, from the start of the text (or in the next one, if less than 0.15 px
    /// of the outline falls in that pixel). Found by drawing the text one glyph
    /// longer at a time: the first column the new glyph darkens. Plotters' own text drawing
    /// (`canvas = false`) puts `k`, `p`, `r`, `l` a pixel left of that ("tick s p er r un").
    #[test]
    fn each_glyph_starts_at_its_pen_position_plus_bearing() {
        let text = "ticks per run (log scale)";
        let size = 17.0;
        let font = font();
        let scaled = font.as_scaled(PxScale::from(size as f32));
        let (glyphs, _) = layout(&font, size, text);
        let misplaced = |canvas: bool| -> Vec<String> {
            let mut misplaced = Vec::new();
            let mut before = columns("", size, canvas);
            for (i, (c, glyph)) in text.chars().zip(&glyphs).enumerate() {
                let after = columns(&text[..=i], size, canvas);
                if c != ' ' {
                    let edge = 10.0 + glyph.position.x + scaled.h_side_bearing(scaled.glyph_id(c));
                    let drawn = (0..after.len()).find(|&x| after[x] != before[x]).unwrap();
                    // A sliver under 0.15 px may darken no pixel: the next column then.
                    let first = edge.floor() as usize;
                    if drawn != first && drawn != (edge + 0.15).floor() as usize {
                        misplaced.push(format!("{c:?} from column {drawn}, edge at {edge:.2}"));
                    }
                }
                before = after;
            }
            misplaced
        };
        assert_eq!(misplaced(true), Vec::<String>::new());
        // What the test catches: plotters' own drawing misplaces glyphs. If this fails after
        // a plotters upgrade, plotters places glyphs right now and `Canvas::draw_text` can go.
        let plotters = misplaced(false);
        assert!(plotters.len() >= 4, "{plotters:?}");
    }

    /// Text anchored at its vertical centre (axis labels) has its digits centred on the anchor,
    /// within a pixel; plotters' own drawing puts them ~2.4 px above it at 15 px.
    #[test]
    fn digits_centre_on_their_anchor() {
        let offset = |canvas: bool| -> f64 {
            let ink = ink(
                "1.5M",
                15.0,
                (40, 20),
                Pos::new(HPos::Left, VPos::Center),
                canvas,
            );
            let rows: Vec<usize> = (0..ink.len())
                .filter(|&y| ink[y].iter().any(|&v| v > 64))
                .collect();
            let (top, bottom) = (rows[0] as f64, rows[rows.len() - 1] as f64 + 1.0);
            (top + bottom) / 2.0 - 20.0
        };
        assert!(offset(true).abs() <= 1.0, "{}", offset(true));
        assert!(offset(false) < -1.5, "{}", offset(false)); // plotters 0.3.7's own
    }

    /// The width plotters lays out with is the one drawn into: the ink of a text ends within
    /// its estimated width (plus a pixel of antialiasing).
    #[test]
    fn ink_fits_the_estimated_width() {
        super::super::register_font_once().unwrap();
        let mut buffer = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
        let text = "latency per tick (µs) 1.5M";
        let size = 15.0;
        let (width, height) = {
            let canvas = Canvas::new(BitMapBackend::with_buffer(&mut buffer, SIZE), font());
            let style = TextStyle::from((super::super::FONT, size).into_font());
            canvas.estimate_text_size(text, &style).unwrap()
        };
        let columns = columns(text, size, true);
        let inked: Vec<usize> = (0..columns.len()).filter(|&x| columns[x] > 0).collect();
        let (first, last) = (inked[0], inked[inked.len() - 1]);
        assert!(first >= 10, "{first}");
        assert!(
            last <= 10 + width as usize,
            "ink to column {last}, width {width}"
        );
        assert!(
            last + 4 >= 10 + width as usize,
            "ink to column {last}, width {width}"
        );
        assert_eq!(height, 12);
    }
}
