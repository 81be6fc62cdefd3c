using OxyPlot;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// Measures text for OxyPlot's SVG exporter in the pixels the SVG is drawn in. Its default measurer, PDF's built-in font
/// metrics, answers in points, so the layout made room for three quarters of every label's width and browsers cut the
/// legend and ran the axis titles into the tick labels. It only measures; drawing is the SVG context's.
/// </summary>
internal sealed class PixelTextMeasurer : RenderContextBase
{
    private const double PixelsPerPoint = 96.0 / 72.0;

    private readonly PdfRenderContext _points = new(1, 1, OxyColors.White);

    public override int ClipCount => 0;

    public override OxySize MeasureText(string text, string fontFamily, double fontSize, double fontWeight)
    {
        var size = _points.MeasureText(text, fontFamily, fontSize, fontWeight);
        return new OxySize(size.Width * PixelsPerPoint, size.Height * PixelsPerPoint);
    }

    public override void DrawLine(IList<ScreenPoint> points, OxyColor stroke, double thickness, EdgeRenderingMode edgeRenderingMode, double[] dashArray, LineJoin lineJoin) =>
        throw new NotSupportedException();

    public override void DrawPolygon(IList<ScreenPoint> points, OxyColor fill, OxyColor stroke, double thickness, EdgeRenderingMode edgeRenderingMode, double[] dashArray, LineJoin lineJoin) =>
        throw new NotSupportedException();

    public override void DrawText(ScreenPoint p, string text, OxyColor fill, string fontFamily, double fontSize, double fontWeight, double rotation, HorizontalAlignment halign, VerticalAlignment valign, OxySize? maxSize) =>
        throw new NotSupportedException();

    public override void PushClip(OxyRect clippingRectangle) => throw new NotSupportedException();

    public override void PopClip() => throw new NotSupportedException();
}
