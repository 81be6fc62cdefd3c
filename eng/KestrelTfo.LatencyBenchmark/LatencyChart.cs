using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace KestrelTfo.LatencyBenchmark;

/// <summary>
/// The run as one picture: median time to the first response byte against the RTT, for Kestrel's default transport
/// and KestrelTfo, over HTTP/1.1 and TLS 1.3, with the raw-socket clients (the default transport's plain one, and
/// KestrelTfo's TFO one), and TLS 1.3 early data on KestrelTfo's TLS layer and on nginx. OxyPlot's SVG exporter is plain .NET (text measured with built-in font metrics, see
/// <see cref="PixelTextMeasurer"/>), so it draws on a machine without native graphics libraries.
/// </summary>
internal static class LatencyChart
{
    private const double Width = 720;
    private const double Height = 420;

    public static string Svg(IReadOnlyList<ScenarioResult> results)
    {
        var model = new PlotModel
        {
            Title = "First response on a new connection",
            Subtitle = "median time to the first response byte over an emulated link",
            DefaultFont = "Arial",
            Background = OxyColors.White,
        };
        model.Legends.Add(new Legend
        {
            LegendPosition = LegendPosition.TopLeft,
            LegendPlacement = LegendPlacement.Inside,
            LegendBackground = OxyColor.FromAColor(230, OxyColors.White),
            LegendPadding = 8,
            LegendSymbolLength = 28,
        });
        var grid = OxyColor.FromRgb(0xdd, 0xdd, 0xdd);
        var maxRtt = results.Max(r => r.RoundTripMilliseconds);
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Bottom, Title = "round-trip time (ms)", Minimum = 0, Maximum = maxRtt * 1.05, MajorGridlineStyle = LineStyle.Dot, MajorGridlineColor = grid,
        });
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Left, Title = "first response byte (ms)", Minimum = 0, MaximumPadding = 0.08, AxisTitleDistance = 8, MajorGridlineStyle = LineStyle.Dot, MajorGridlineColor = grid,
        });

        var lines = new (BenchmarkTransport Transport, bool FastOpenClient, BenchmarkProtocol Protocol, string Title, OxyColor Color, LineStyle Style)[]
        {
            (BenchmarkTransport.Default, false, BenchmarkProtocol.Https, "TLS 1.3, Kestrel default, plain client", OxyColor.FromRgb(0xd6, 0x27, 0x28), LineStyle.Dash),
            (BenchmarkTransport.FastOpen, true, BenchmarkProtocol.Https, "TLS 1.3, KestrelTfo, TFO client", OxyColor.FromRgb(0x1f, 0x77, 0xb4), LineStyle.Dash),
            (BenchmarkTransport.FastOpen, true, BenchmarkProtocol.HttpsOpenSslEarlyData, "TLS 1.3 + early data (GET), KestrelTfo's TLS layer, TFO client", OxyColor.FromRgb(0x2c, 0xa0, 0x2c), LineStyle.Dash),
            (BenchmarkTransport.Nginx, true, BenchmarkProtocol.HttpsOpenSslEarlyData, "TLS 1.3 + early data (GET), nginx, TFO client", OxyColor.FromRgb(0x94, 0x67, 0xbd), LineStyle.Dot),
            (BenchmarkTransport.Default, false, BenchmarkProtocol.Http1, "HTTP/1.1, Kestrel default, plain client", OxyColor.FromRgb(0xd6, 0x27, 0x28), LineStyle.Solid),
            (BenchmarkTransport.FastOpen, true, BenchmarkProtocol.Http1, "HTTP/1.1, KestrelTfo, TFO client", OxyColor.FromRgb(0x1f, 0x77, 0xb4), LineStyle.Solid),
        };
        foreach (var line in lines)
        {
            var series = new LineSeries
            {
                Title = line.Title,
                Color = line.Color,
                LineStyle = line.Style,
                StrokeThickness = 2,
                MarkerType = line.Protocol == BenchmarkProtocol.Http1 ? MarkerType.Circle : MarkerType.Square,
                MarkerSize = 3.5,
                MarkerFill = line.Color,
            };
            var points = results
                .Where(r => r.Scenario.Transport == line.Transport && r.Scenario.Protocol == line.Protocol && !r.Scenario.Proxied &&
                    r.Scenario.Client is SocketClient or OpenSslFirstByteClient { AnsweredFromEarlyData: true } && r.Scenario.Client.FastOpen == line.FastOpenClient)
                .OrderBy(r => r.RoundTripMilliseconds);
            series.Points.AddRange(points.Select(r => new DataPoint(r.RoundTripMilliseconds, r.Median)));
            model.Series.Add(series);
        }

        return new SvgExporter { Width = Width, Height = Height, UseVerticalTextAlignmentWorkaround = true, TextMeasurer = new PixelTextMeasurer() }.ExportToString(model);
    }
}
