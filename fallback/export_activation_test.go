package fallback

// Coefficients of the polynomials, exported to the external tests that check
// them against a fresh fit.
var (
	ExpCoefficients  = []float32{expC2, expC3, expC4, expC5, expC6, expC7}
	TanhCoefficients = []float32{tanhC3, tanhC5, tanhC7, tanhC9, tanhC11}
)

// TanhPolyMax is where tanh switches from the polynomial to the exp form.
const TanhPolyMax = tanhPolyMax
