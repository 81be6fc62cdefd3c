global using KestrelTfo.Testing;
global using Xunit;
